package fb.datalake.sql;

import java.util.Map;
import java.util.Properties;

/**
 * The Thrift server applies a client's "set:system:key=value" session settings (the JDBC URL's
 * ?set:system:...) as JVM system properties of the whole server - read by Hive, Hadoop and
 * Spark code of every later session. This replaces the JVM's properties with a copy that refuses
 * changes coming from that path (HiveSessionImpl.setVariable); the session then fails to open.
 */
final class SystemPropertiesGuard extends Properties {
  private static final long serialVersionUID = 1L;

  private SystemPropertiesGuard(Properties current) {
    super();
    for (Map.Entry<Object, Object> entry : current.entrySet()) {
      super.put(entry.getKey(), entry.getValue());
    }
  }

  static synchronized void install() {
    if (!(System.getProperties() instanceof SystemPropertiesGuard)) {
      System.setProperties(new SystemPropertiesGuard(System.getProperties()));
    }
  }

  private static boolean fromSessionSettings() {
    return StackWalker.getInstance().walk(frames -> frames.anyMatch(
        f -> f.getMethodName().equals("setVariable") && f.getClassName().endsWith("session.HiveSessionImpl")));
  }

  /** The user of the Hive session being opened (Hive's SessionState, read reflectively). */
  private static String sessionUser() {
    try {
      Object state = Class.forName("org.apache.hadoop.hive.ql.session.SessionState").getMethod("get").invoke(null);
      Object user = state == null ? null : state.getClass().getMethod("getUserName").invoke(state);
      return user == null ? "(unknown)" : user.toString();
    } catch (ReflectiveOperationException | RuntimeException e) {
      return "(unknown)";
    }
  }

  @Override
  public synchronized Object put(Object key, Object value) {
    if (fromSessionSettings()) {
      throw new AccessDenied(sessionUser(), "set the server's system property", String.valueOf(key),
          "a session's settings do not reach the server's JVM (set:system:...)");
    }
    return super.put(key, value);
  }

  @Override
  public synchronized Object setProperty(String key, String value) {
    return put(key, value);
  }
}
