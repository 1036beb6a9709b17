package fb.datalake.sql;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.Map;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;
import javax.security.sasl.AuthenticationException;
import org.apache.hive.service.auth.PasswdAuthenticationProvider;

/**
 * The SQL endpoint's CUSTOM authentication: users and PBKDF2-HMAC-SHA256 hashes from a file the
 * deployment writes (one "user:iterations:salt-base64:hash-base64" per line), re-read when it
 * changes. The file's path is the system property datalake.sql.users.file, read once.
 */
public final class PasswdFileAuthenticator implements PasswdAuthenticationProvider {
  static final String FILE_PROPERTY = "datalake.sql.users.file";
  private static final byte[] UNKNOWN_USER_SALT = new byte[16];
  // read once, when the first login loads this class: a session may set system properties
  // (set:system:...) after it has logged in, and must not point later logins at another file
  private static final Path USERS_FILE = Paths.get(System.getProperty(FILE_PROPERTY, "/etc/spark/sql-users"));

  private static final class Entry {
    final int iterations;
    final byte[] salt;
    final byte[] hash;

    Entry(int iterations, byte[] salt, byte[] hash) {
      this.iterations = iterations;
      this.salt = salt;
      this.hash = hash;
    }
  }

  private static Map<String, Entry> users = new HashMap<>();
  private static long usersModified = -1;

  static synchronized Map<String, Entry> load(Path file) throws IOException {
    long modified = Files.getLastModifiedTime(file).toMillis();
    if (modified != usersModified) {
      Map<String, Entry> parsed = new HashMap<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        String[] field = line.trim().split(":");
        if (field.length != 4 || line.startsWith("#")) {
          continue;
        }
        Base64.Decoder b64 = Base64.getDecoder();
        parsed.put(field[0], new Entry(Integer.parseInt(field[1]), b64.decode(field[2]), b64.decode(field[3])));
      }
      users = parsed;
      usersModified = modified;
    }
    return users;
  }

  static byte[] pbkdf2(String password, byte[] salt, int iterations, int bytes) throws GeneralSecurityException {
    PBEKeySpec spec = new PBEKeySpec(password.toCharArray(), salt, iterations, bytes * 8);
    return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
  }

  @Override
  public void Authenticate(String user, String password) throws AuthenticationException {
    Path file = USERS_FILE;
    Entry entry;
    byte[] candidate;
    try {
      entry = load(file).get(user);
      // an unknown user costs the same hashing as a known one
      Entry against = entry != null ? entry : new Entry(100000, UNKNOWN_USER_SALT, new byte[32]);
      candidate = pbkdf2(password == null ? "" : password, against.salt, against.iterations, against.hash.length);
    } catch (IOException | GeneralSecurityException | RuntimeException e) {
      throw new AuthenticationException("the SQL users file " + file + " could not be read", e);
    }
    if (entry == null || password == null || password.isEmpty() || !MessageDigest.isEqual(candidate, entry.hash)) {
      throw new AuthenticationException("invalid user name or password");
    }
  }
}
