package fb.datalake.sql;

import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import scala.Tuple2;

/**
 * SET and the session's settings. A user who is not an admin sets and reads only the allow-listed
 * keys (spark_sql_settable_keys); admins also other spark.sql.* keys. Nobody changes a security
 * setting, nor reads a secret. A session's settings can also arrive without SET - in the JDBC URL
 * (?key=value, #var=value), which the Thrift server applies when it opens the session - so every
 * statement first checks the session's settings as they are.
 */
final class Settings {
  private Settings() {}

  /**
   * Settings Iceberg itself puts in a session, with their only values: its procedures read tables
   * through IcebergSource, which registers these catalogs (a Hive catalog on the same metastore,
   * and the cache of tables being rewritten) in the session that called them.
   */
  static final Map<String, String> ICEBERG_SESSION_SETTINGS = Map.of(
      "spark.sql.catalog.default_iceberg", "org.apache.iceberg.spark.SparkCatalog",
      "spark.sql.catalog.default_iceberg.type", "hive",
      "spark.sql.catalog.default_iceberg.default-namespace", "default",
      "spark.sql.catalog.default_iceberg.cache-enabled", "false",
      "spark.sql.catalog.default_cache_iceberg", "org.apache.iceberg.spark.SparkCachedTableCatalog");

  static void checkSetCommand(Subject subject, LogicalPlan plan) {
    Tuple2<?, ?> kv = (Tuple2<?, ?>) Scala.field(plan, "kv");
    if (kv == null || "-v".equals(kv._1())) {
      if (!subject.admin) {
        throw subject.denied("list", "the settings", "users read only the settings they may set");
      }
      return;
    }
    String key = stripVariablePrefix(String.valueOf(kv._1()));
    Object value = Scala.value(kv._2());
    if (value == null) {
      if (!subject.mayReadSetting(key)) {
        throw subject.denied("read the setting", key, "users read only the settings they may set; nobody reads secrets");
      }
    } else if (!subject.maySet(key)) {
      throw subject.denied("set", key, Subject.isSecuritySetting(subject.policy, key)
          ? "a security setting of the SQL endpoint" : "not among the settings users may change");
    }
  }

  /**
   * The server's own settings: the application's, those of the Thrift server's first session
   * (every client session is a new session of it) and the JVM's system properties (Hive hands
   * the server's --hiveconf settings, kept there, to every session; SystemPropertiesGuard keeps
   * sessions from setting them).
   */
  static Map<String, String> serverSettings(SparkSession session) {
    SparkConf application = session.sparkContext().getConf();
    Map<String, String> server = new java.util.HashMap<>();
    for (Tuple2<String, String> setting : application.getAll()) {
      server.put(setting._1(), setting._2());
    }
    for (String key : System.getProperties().stringPropertyNames()) {
      server.put(key, System.getProperty(key));
    }
    Object root = Scala.value(SparkSession.getDefaultSession());
    if (root instanceof SparkSession && root != session) {
      server.putAll(Scala.map(((SparkSession) root).sessionState().conf().getAllConfs()));
    }
    return server;
  }

  // SET hivevar:x=v sets the key x
  private static String stripVariablePrefix(String key) {
    return key.startsWith("hivevar:") ? key.substring("hivevar:".length()) : key;
  }

  /**
   * Refuses every statement of a session whose settings differ from the server's in a key the
   * user may not set: a security setting, or any key a user who is not an admin has no grant for.
   */
  static void checkSession(Subject subject, Map<String, String> server) {
    Map<String, String> settings = Scala.map(subject.session.sessionState().conf().getAllConfs());
    for (Map.Entry<String, String> setting : settings.entrySet()) {
      String key = setting.getKey();
      if (java.util.Objects.equals(setting.getValue(), server.get(key))
          || setting.getValue() != null && setting.getValue().equals(ICEBERG_SESSION_SETTINGS.get(key))) {
        continue;
      }
      if (subject.policy.sessionKeys.contains(key.toLowerCase(java.util.Locale.ROOT)) || subject.maySet(key)) {
        continue;
      }
      throw subject.denied("use a session that changed", key,
          "this setting is not for this user to change (in SET or in the connection's URL)");
    }
  }
}
