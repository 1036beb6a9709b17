package fb.datalake.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Who may do what on the SQL endpoint: the policy file the deployment writes (the spark role,
 * filter sql_authz_policy), re-read when it changes. Object keys are "namespace.name" for the
 * catalogs on the shared metastore (spark_catalog and the Iceberg catalog name the same
 * objects) and "@catalog.namespace.name" for any other catalog; all lower case.
 */
final class AuthzPolicy {
  /** One user's grants: what they may read, and the namespaces they may write in. */
  static final class Grants {
    final Set<String> selectNamespaces;
    final Set<String> selectObjects;
    final Set<String> writeNamespaces;

    Grants(Set<String> selectNamespaces, Set<String> selectObjects, Set<String> writeNamespaces) {
      this.selectNamespaces = selectNamespaces;
      this.selectObjects = selectObjects;
      this.writeNamespaces = writeNamespaces;
    }

    static final Grants NONE = new Grants(Collections.emptySet(), Collections.emptySet(), Collections.emptySet());
  }

  /** A column mask: null, hash or partial (the last showLast characters shown). */
  static final class Mask {
    final String type;
    final int showLast;

    Mask(String type, int showLast) {
      this.type = type;
      this.showLast = showLast;
    }
  }

  final String source;
  final String error;
  final Set<String> admins;
  final Map<String, Grants> users;
  final Map<String, List<String>> protectedTables;
  final Set<String> secureViews;
  final Map<String, Map<String, Mask>> masks;
  final Set<String> settableKeys;
  final List<Pattern> securitySettings;
  final Set<String> sessionKeys;
  final Set<String> metastoreCatalogs;
  final Set<String> objectStoreSchemes;
  final List<Pattern> tableProperties;

  private AuthzPolicy(String source, String error, JsonNode root) {
    this.source = source;
    this.error = error;
    this.admins = lowerSet(root.path("admins"));
    this.users = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("users").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> user = it.next();
      JsonNode grants = user.getValue();
      users.put(user.getKey().toLowerCase(Locale.ROOT), new Grants(lowerSet(grants.path("select_namespaces")),
          lowerSet(grants.path("select_objects")), lowerSet(grants.path("write_namespaces"))));
    }
    this.protectedTables = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("protected_tables").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> table = it.next();
      protectedTables.put(table.getKey().toLowerCase(Locale.ROOT), List.copyOf(lowerSet(table.getValue())));
    }
    this.secureViews = lowerSet(root.path("secure_views"));
    this.masks = new HashMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = root.path("masks").fields(); it.hasNext();) {
      Map.Entry<String, JsonNode> table = it.next();
      Map<String, Mask> columns = new HashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> c = table.getValue().fields(); c.hasNext();) {
        Map.Entry<String, JsonNode> column = c.next();
        columns.put(column.getKey().toLowerCase(Locale.ROOT),
            new Mask(column.getValue().path("type").asText("null"), column.getValue().path("show_last").asInt(4)));
      }
      masks.put(table.getKey().toLowerCase(Locale.ROOT), columns);
    }
    this.settableKeys = lowerSet(root.path("settable_keys"));
    this.securitySettings = patterns(root.path("security_settings"));
    this.sessionKeys = lowerSet(root.path("session_keys"));
    this.metastoreCatalogs = lowerSet(root.path("metastore_catalogs"));
    this.objectStoreSchemes = lowerSet(root.path("object_store_schemes"));
    this.tableProperties = patterns(root.path("table_properties"));
  }

  private static Set<String> lowerSet(JsonNode array) {
    Set<String> out = new HashSet<>();
    array.forEach(item -> out.add(item.asText().toLowerCase(Locale.ROOT)));
    return out;
  }

  private static List<Pattern> patterns(JsonNode array) {
    List<String> regexes = new java.util.ArrayList<>();
    array.forEach(item -> regexes.add(item.asText()));
    return regexes.stream().map(r -> Pattern.compile(r, Pattern.CASE_INSENSITIVE)).collect(Collectors.toList());
  }

  boolean loaded() {
    return error == null;
  }

  boolean isAdmin(String user) {
    return user != null && admins.contains(user.toLowerCase(Locale.ROOT));
  }

  Grants grants(String user) {
    return user == null ? Grants.NONE : users.getOrDefault(user.toLowerCase(Locale.ROOT), Grants.NONE);
  }

  static boolean matchesAny(List<Pattern> patterns, String value) {
    return patterns.stream().anyMatch(p -> p.matcher(value).matches());
  }

  // --- loading, re-read when the file changes
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Map<String, AuthzPolicy> LOADED = new HashMap<>();
  private static final Map<String, String> STAMPS = new HashMap<>();

  static synchronized AuthzPolicy load(String file) {
    if (file == null || file.isEmpty()) {
      return failed("(none)", "spark.datalake.authz.policy is not set");
    }
    Path path = Paths.get(file);
    String stamp;
    try {
      BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
      stamp = attrs.lastModifiedTime().toMillis() + ":" + attrs.size();
    } catch (IOException e) {
      return failed(file, "it cannot be read (" + e.getClass().getSimpleName() + ")");
    }
    if (stamp.equals(STAMPS.get(file))) {
      return LOADED.get(file);
    }
    AuthzPolicy policy;
    try {
      JsonNode root = JSON.readTree(Files.readAllBytes(path));
      if (root == null || root.path("version").asInt() != 1) {
        policy = failed(file, "it is not a version 1 policy");
      } else {
        policy = new AuthzPolicy(file, null, root);
      }
    } catch (IOException | RuntimeException e) {
      policy = failed(file, "it does not parse (" + e.getClass().getSimpleName() + ")");
    }
    LOADED.put(file, policy);
    STAMPS.put(file, stamp);
    return policy;
  }

  private static AuthzPolicy failed(String source, String why) {
    return new AuthzPolicy(source, "the SQL authorization policy " + source + " is unusable: " + why,
        JSON.createObjectNode());
  }
}
