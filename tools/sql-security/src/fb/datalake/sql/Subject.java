package fb.datalake.sql;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.CurrentUserContext$;

/**
 * The user a statement runs for and what the policy lets them do. Admins reach the whole
 * lakehouse; everyone else only what their grants give (deny by default). Some things are
 * refused to everyone, admins included: the server's own disk, code loaded or called through SQL,
 * and the settings that guard all this.
 */
final class Subject {
  // a floor under the policy's list: settings no session may change, whatever the inventory says
  static final List<Pattern> BUILTIN_SECURITY_SETTINGS = Arrays.asList(
      Pattern.compile("spark\\.sql\\.(runsqlonfiles|variable\\.substitute.*|extensions|defaultcatalog|warehouse\\.dir)", Pattern.CASE_INSENSITIVE),
      Pattern.compile("spark\\.sql\\.(catalog|legacy|hive|redaction|optimizer|analyzer|thriftserver)\\..*", Pattern.CASE_INSENSITIVE),
      Pattern.compile("(spark\\.datalake|spark\\.hadoop|spark\\.wap|spark\\.redaction)\\..*", Pattern.CASE_INSENSITIVE));
  // settings whose value is a secret: nobody reads them through SET
  static final Pattern SECRET_SETTING = Pattern.compile("(?i).*(secret|password|token|credential|access[.-]?key).*");

  final String user;
  final AuthzPolicy policy;
  final AuthzPolicy.Grants grants;
  final SparkSession session;
  /** An admin, or the server's own work (no client user: a procedure's worker threads). */
  final boolean admin;
  final boolean internal;

  private Subject(String user, AuthzPolicy policy, SparkSession session, boolean internal) {
    this.user = user;
    this.policy = policy;
    this.session = session;
    this.internal = internal;
    this.admin = internal || policy.isAdmin(user);
    this.grants = policy.grants(user);
  }

  /** What the current thread's stack says about the work it does (one walk). */
  static final class Frames {
    /** A client's statement (the Thrift server's operation) is running on this thread. */
    boolean clientStatement;
    /** A procedure runs (its CALL was checked before it ran): the queries it makes are its own. */
    boolean procedure;
    /** Spark checks part of a plan alone: a view's body while it resolves it, or a subquery. */
    boolean partAlone;

    static Frames now() {
      Frames frames = new Frames();
      StackWalker.getInstance().forEach(f -> {
        String type = f.getClassName();
        frames.clientStatement |= type.endsWith("thriftserver.SparkExecuteStatementOperation");
        frames.procedure |= type.endsWith(".CallExec");
        frames.partAlone |= f.getMethodName().endsWith("resolveViews") && type.contains("ResolveRelations")
            || f.getMethodName().equals("checkSubqueryExpression");
      });
      return frames;
    }
  }

  /**
   * Who runs the statement being parsed or analyzed: the Thrift server sets the session's user
   * before it parses a client's statement. Without one, the work is the server's own (a
   * procedure's worker threads, start-up) - unless a client statement is running on this thread,
   * which must never lack its user: that fails closed. frames: the thread's stack when a check
   * must also know whether a procedure's own queries are running (null: not asked, and the stack
   * is walked only for a thread without a user).
   */
  static Subject current(SparkSession session, Frames frames) {
    String user = CurrentUserContext$.MODULE$.CURRENT_USER().get();
    AuthzPolicy policy = AuthzPolicy.load(session.sparkContext().getConf().get("spark.datalake.authz.policy", ""));
    if (!policy.loaded()) {
      throw new SecurityException(policy.error);
    }
    if (frames != null && frames.procedure) {
      return new Subject(user == null ? "(server)" : user, policy, session, true);
    }
    if (user == null) {
      boolean clientStatement = (frames != null ? frames : Frames.now()).clientStatement;
      return clientStatement ? new Subject("(no user)", policy, session, false) : new Subject("(server)", policy, session, true);
    }
    return new Subject(user, policy, session, false);
  }

  static Subject current(SparkSession session) {
    return current(session, null);
  }

  AccessDenied denied(String action, String object, String reason) {
    return new AccessDenied(user, action, object, reason);
  }

  // --- objects: keys are namespace.name on the shared metastore (see AuthzPolicy)
  static String namespaceOf(String key) {
    int dot = key.lastIndexOf('.');
    return dot < 0 ? "" : key.substring(0, dot);
  }

  boolean isProtected(String key) {
    return policy.protectedTables.containsKey(key);
  }

  boolean isSecureView(String key) {
    return policy.secureViews.contains(key);
  }

  boolean isMasked(String key) {
    return policy.masks.containsKey(key);
  }

  /** May read the object (a protected table never directly: only through its secure views). */
  boolean mayRead(String key) {
    if (admin) {
      return true;
    }
    String namespace = namespaceOf(key);
    return !isProtected(key) && (grants.selectObjects.contains(key) || grants.selectNamespaces.contains(namespace)
        || grants.writeNamespaces.contains(namespace));
  }

  /** May read every row and column as stored: what metadata tables, statistics and DESCRIBE show. */
  boolean mayReadInFull(String key) {
    return admin || (mayRead(key) && !isMasked(key));
  }

  boolean mayWrite(String key) {
    return admin || (grants.writeNamespaces.contains(namespaceOf(key)) && !isProtected(key) && !isSecureView(key));
  }

  boolean mayWriteNamespace(String namespace) {
    return admin || grants.writeNamespaces.contains(namespace);
  }

  /** May list the namespace's tables: some grant in it. */
  boolean maySeeNamespace(String namespace) {
    return admin || grants.selectNamespaces.contains(namespace) || grants.writeNamespaces.contains(namespace)
        || grants.selectObjects.stream().anyMatch(o -> namespaceOf(o).equals(namespace));
  }

  // --- settings
  static boolean isSecuritySetting(AuthzPolicy policy, String key) {
    return AuthzPolicy.matchesAny(BUILTIN_SECURITY_SETTINGS, key) || AuthzPolicy.matchesAny(policy.securitySettings, key);
  }

  /** May change the setting: never a security setting; admins any other spark.sql.* key. */
  boolean maySet(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    if (isSecuritySetting(policy, k)) {
      return false;
    }
    return policy.settableKeys.contains(k) || (admin && k.startsWith("spark.sql."));
  }

  boolean mayReadSetting(String key) {
    String k = key.toLowerCase(Locale.ROOT);
    return !SECRET_SETTING.matcher(k).matches() && (admin || policy.settableKeys.contains(k));
  }
}
