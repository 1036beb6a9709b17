package fb.datalake.sql;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.apache.spark.sql.catalyst.catalog.CatalogTable;
import org.apache.spark.sql.catalyst.catalog.HiveTableRelation;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.SubqueryAlias;
import org.apache.spark.sql.connector.catalog.CatalogManager;
import org.apache.spark.sql.connector.catalog.CatalogPlugin;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.execution.datasources.LogicalRelation;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2Relation;

/**
 * The tables, views and namespaces a plan names, as policy keys. Spark's session catalog and the
 * Iceberg catalog read the same metastore: both spell "namespace.name" (AuthzPolicy).
 */
final class Objects {
  static final String SESSION_CATALOG = "spark_catalog";

  /** A table or view a plan reads or writes; derived = a metadata table or a selector of base. */
  static final class Ref {
    final String display;
    final String key;
    final boolean derived;

    Ref(String display, String key, boolean derived) {
      this.display = display;
      this.key = key;
      this.derived = derived;
    }
  }

  private final AuthzPolicy policy;
  private final SparkSession session;

  Objects(AuthzPolicy policy, SparkSession session) {
    this.policy = policy;
    this.session = session;
  }

  String key(String catalog, List<String> parts) {
    String name = String.join(".", parts).toLowerCase(Locale.ROOT);
    String cat = catalog.toLowerCase(Locale.ROOT);
    return policy.metastoreCatalogs.contains(cat) ? name : "@" + cat + "." + name;
  }

  Ref ref(String catalog, List<String> parts) {
    List<String> base = parts;
    boolean derived = false;
    // the metastore's namespaces have one level: a longer name is a table's metadata table or a
    // snapshot, branch, tag or change selector of it (lakehouse.db.t.files, ...t.branch_x)
    if (policy.metastoreCatalogs.contains(catalog.toLowerCase(Locale.ROOT)) && parts.size() > 2) {
      base = parts.subList(0, 2);
      derived = true;
    }
    return new Ref(catalog + "." + String.join(".", parts), key(catalog, base), derived);
  }

  Ref ref(CatalogPlugin catalog, Identifier identifier) {
    List<String> parts = new ArrayList<>(Arrays.asList(identifier.namespace()));
    parts.add(identifier.name());
    return ref(catalog.name(), parts);
  }

  Ref ref(TableIdentifier identifier) {
    List<String> parts = new ArrayList<>();
    String database = (String) Scala.value(identifier.database());
    parts.add(database != null ? database : session.sessionState().catalog().getCurrentDatabase());
    parts.add(identifier.table());
    String catalog = (String) Scala.value(identifier.catalog());
    return ref(catalog != null ? catalog : SESSION_CATALOG, parts);
  }

  /** A multi-part name as the user wrote it (Iceberg's ALTER TABLE extensions keep it unresolved). */
  Ref ref(List<String> nameParts) {
    CatalogManager catalogs = session.sessionState().catalogManager();
    if (nameParts.size() > 1 && catalogs.isCatalogRegistered(nameParts.get(0))) {
      return ref(nameParts.get(0), nameParts.subList(1, nameParts.size()));
    }
    List<String> parts = new ArrayList<>();
    if (nameParts.size() == 1) {
      parts.addAll(Arrays.asList(catalogs.currentNamespace()));
    }
    parts.addAll(nameParts);
    return ref(catalogs.currentCatalog().name(), parts);
  }

  /** The namespace key of a catalog's namespace. */
  String namespaceKey(String catalog, List<String> namespace) {
    return key(catalog, namespace);
  }

  static boolean isPathLike(String name) {
    return name.indexOf('/') >= 0 || name.indexOf(':') >= 0;
  }

  /**
   * The table a relation leaf reads: null for a leaf that is no catalog object (a path-based
   * read, a temporary relation of the server's own work).
   */
  Ref relation(LogicalPlan leaf) {
    if (leaf instanceof DataSourceV2Relation) {
      DataSourceV2Relation relation = (DataSourceV2Relation) leaf;
      CatalogPlugin catalog = (CatalogPlugin) Scala.value(relation.catalog());
      Identifier identifier = (Identifier) Scala.value(relation.identifier());
      if (catalog == null || identifier == null || isPathLike(identifier.name())) {
        return null;
      }
      Ref ref = ref(catalog, identifier);
      String tableClass = relation.table().getClass().getSimpleName();
      boolean changelog = tableClass.contains("Changelog");
      return changelog && !ref.derived ? new Ref(ref.display, ref.key, true) : ref;
    }
    if (leaf instanceof LogicalRelation) {
      CatalogTable table = (CatalogTable) Scala.value(((LogicalRelation) leaf).catalogTable());
      return table == null ? null : ref(table.identifier());
    }
    if (leaf instanceof HiveTableRelation) {
      return ref(((HiveTableRelation) leaf).tableMeta().identifier());
    }
    return null;
  }

  static boolean isRelation(LogicalPlan plan) {
    return plan instanceof DataSourceV2Relation || plan instanceof LogicalRelation || plan instanceof HiveTableRelation;
  }

  /** A write target as Spark keeps it: a relation, possibly under SubqueryAlias. */
  Ref target(Object plan) {
    Object node = plan;
    while (node instanceof SubqueryAlias) {
      node = ((SubqueryAlias) node).child();
    }
    return node instanceof LogicalPlan ? relation((LogicalPlan) node) : null;
  }
}
