package fb.datalake.sql;

/** A statement the SQL authorization refuses; the message names the user and the object. */
final class AccessDenied extends SecurityException {
  private static final long serialVersionUID = 1L;

  AccessDenied(String user, String action, String object, String reason) {
    super("user " + user + " may not " + action + " " + object + ": " + reason);
  }
}
