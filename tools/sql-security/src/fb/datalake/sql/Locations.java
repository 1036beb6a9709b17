package fb.datalake.sql;

import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.sql.catalyst.catalog.CatalogStorageFormat;
import org.apache.spark.sql.catalyst.catalog.CatalogTable;
import org.apache.spark.sql.catalyst.plans.logical.SerdeInfo;
import org.apache.spark.sql.catalyst.plans.logical.TableSpecBase;

/**
 * The locations a statement names (LOCATION, path options, table properties that move files,
 * directories written or loaded) and the rule for them: only the object store, never the
 * server's own disk. Also the data sources and Hive formats a table may use.
 */
final class Locations {
  private Locations() {}

  private static final Pattern SCHEME = Pattern.compile("^([A-Za-z][A-Za-z0-9+.-]*):");
  // property or option keys whose value is a location (write.data.path, path, location, ...)
  private static final Pattern LOCATION_KEY = Pattern.compile("(?i)(.*[.-])?(path|paths|location|dir|uri|url|warehouse)");
  // properties that name a class to load, for everyone: write.location-provider.impl, io-impl, ...
  static final Pattern CLASS_KEY = Pattern.compile("(?i).*(impl|class|classname|provider\\.impl)");
  // data sources a table may be defined with (none runs a driver or reads outside its location)
  static final List<String> PROVIDERS = List.of("iceberg", "parquet", "orc", "avro", "csv", "json", "text", "hive");
  // Hive's own serdes and formats; anything else would be a class loaded by name
  private static final Pattern HIVE_CLASS = Pattern.compile(
      "org\\.apache\\.hadoop\\.(hive\\.(serde2|ql\\.io)|mapred|mapreduce\\.lib)\\.[A-Za-z0-9_.$]+");

  /** The scheme of a location, or "" for a bare path (the server's default file system). */
  static String scheme(String location) {
    Matcher m = SCHEME.matcher(location.trim());
    return m.find() ? m.group(1).toLowerCase(Locale.ROOT) : "";
  }

  /** Why the location is refused, or null: it must name the object store, scheme and all. */
  static String refusal(String location, AuthzPolicy policy) {
    String scheme = scheme(location);
    if (scheme.isEmpty()) {
      return "a location without a scheme is the server's own file system; name the object store ("
          + String.join(", ", policy.objectStoreSchemes) + "://...)";
    }
    if (!policy.objectStoreSchemes.contains(scheme)) {
      return "scheme " + scheme + " is not the object store (" + String.join(", ", policy.objectStoreSchemes) + ")";
    }
    return null;
  }

  static boolean isLocationKey(String key) {
    return LOCATION_KEY.matcher(key).matches();
  }

  static boolean isHiveClass(String name) {
    return HIVE_CLASS.matcher(name).matches();
  }

  /** Every location-valued entry of a properties or options map. */
  static void fromMap(Map<String, String> map, List<String> out) {
    for (Map.Entry<String, String> entry : map.entrySet()) {
      if (entry.getValue() != null && isLocationKey(entry.getKey())) {
        out.add(entry.getValue());
      }
    }
  }

  /**
   * The locations held by a field of a command: strings and URIs named location or path, a
   * table's storage and properties, a table spec, partition specs with locations.
   */
  static List<String> of(Object value) {
    List<String> out = new ArrayList<>();
    collect(value, out);
    return out;
  }

  private static void collect(Object value, List<String> out) {
    Object v = Scala.value(value);
    if (v == null) {
      return;
    }
    if (v instanceof String) {
      out.add((String) v);
    } else if (v instanceof URI || v instanceof org.apache.hadoop.fs.Path) {
      out.add(v.toString());
    } else if (v instanceof CatalogTable) {
      CatalogTable table = (CatalogTable) v;
      collect(table.storage(), out);
      fromMap(Scala.map(table.properties()), out);
    } else if (v instanceof CatalogStorageFormat) {
      CatalogStorageFormat storage = (CatalogStorageFormat) v;
      collect(storage.locationUri(), out);
      fromMap(Scala.map(storage.properties()), out);
    } else if (v instanceof TableSpecBase) {
      TableSpecBase spec = (TableSpecBase) v;
      collect(spec.location(), out);
      fromMap(Scala.map(spec.properties()), out);
      fromMap(Scala.map(Scala.field(spec, "options")), out);
    } else if (v instanceof scala.collection.Map || v instanceof Map) {
      fromMap(Scala.map(v), out);
    } else if (v instanceof scala.Tuple2) {
      // (partition spec, Option[location]) of ALTER TABLE ADD PARTITION
      collect(((scala.Tuple2<?, ?>) v)._2(), out);
    } else if (v instanceof scala.collection.Iterable) {
      for (Object item : Scala.list(v)) {
        collect(item, out);
      }
    } else if (v.getClass().getSimpleName().endsWith("PartitionSpec")) {
      collect(Scala.field(v, "location"), out);
    }
  }

  /** The classes a table definition names: serde, input and output formats. */
  static List<String> classes(Object definition) {
    List<String> out = new ArrayList<>();
    Object v = Scala.value(definition);
    if (v instanceof CatalogTable) {
      v = ((CatalogTable) v).storage();
    }
    if (v instanceof CatalogStorageFormat) {
      CatalogStorageFormat storage = (CatalogStorageFormat) v;
      for (Object name : new Object[] {storage.serde(), storage.inputFormat(), storage.outputFormat()}) {
        if (Scala.value(name) != null) {
          out.add((String) Scala.value(name));
        }
      }
    } else if (v instanceof TableSpecBase) {
      SerdeInfo serde = (SerdeInfo) Scala.value(((TableSpecBase) v).serde());
      if (serde != null) {
        if (Scala.value(serde.serde()) != null) {
          out.add((String) Scala.value(serde.serde()));
        }
        Object formats = Scala.value(serde.formatClasses());
        if (formats != null) {
          out.add(String.valueOf(Scala.field(formats, "input")));
          out.add(String.valueOf(Scala.field(formats, "output")));
        }
      }
    }
    return out;
  }
}
