package fb.datalake.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.apache.spark.sql.catalyst.catalog.CatalogTable;
import org.apache.spark.sql.catalyst.expressions.CallMethodViaReflection;
import org.apache.spark.sql.catalyst.expressions.CurrentUser;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.expressions.UserDefinedExpression;
import org.apache.spark.sql.catalyst.plans.logical.Command;
import org.apache.spark.sql.catalyst.plans.logical.LeafNode;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.View;
import org.apache.spark.sql.connector.catalog.CatalogPlugin;
import org.apache.spark.sql.connector.catalog.Identifier;
import org.apache.spark.sql.execution.CommandExecutionMode;

/**
 * Checks an analyzed plan against the policy before anything of it runs (a check rule), the way
 * Ranger's Spark plugin does: every object the plan reads or writes - through subqueries, CTEs,
 * joins, unions, views inside views - and every command. For a user who is not an admin, what no
 * grant allows is refused, and so is any command this class does not know. Reads inside a secure
 * view are the view's (definer's rights); reads inside any other view are the reader's.
 */
final class PlanChecker {
  // the leaves of a query that name no stored object
  private static final Set<String> VALUE_LEAVES = Set.of("LocalRelation", "OneRowRelation", "Range",
      "CTERelationRef", "ResolvedInlineTable", "UnresolvedInlineTable");
  // markers that only name a command's target (the command's rule checks them)
  private static final Set<String> TARGET_MARKERS = Set.of("ResolvedIdentifier", "ResolvedTable", "ResolvedNamespace",
      "ResolvedPersistentView", "ResolvedTempView", "ResolvedPersistentFunc", "ResolvedNonPersistentFunc",
      "ResolvedV2View", "ResolvedDBObjectName");
  // commands with no object, harmless for anyone
  private static final Set<String> OPEN_COMMANDS = Set.of("SetCatalogAndNamespace", "SetNamespaceCommand",
      "SetCatalogCommand", "ShowNamespaces", "ShowCatalogs", "ShowCatalogsCommand", "ShowCurrentNamespace",
      "ShowCurrentNamespaceCommand", "ShowFunctions", "ShowFunctionsCommand", "DescribeFunctionCommand",
      "DescribeFunction", "ResetCommand");
  // Iceberg's ALTER TABLE extensions: each holds the table's name as written (field "table")
  private static final Set<String> ICEBERG_TABLE_CHANGES = Set.of("AddPartitionField", "DropPartitionField",
      "ReplacePartitionField", "SetWriteDistributionAndOrdering", "SetIdentifierFields", "DropIdentifierFields",
      "CreateOrReplaceBranch", "CreateOrReplaceTag", "DropBranch", "DropTag");
  // commands that change a table or view (its target: a ResolvedTable child or a name field)
  private static final Set<String> TABLE_CHANGES = Set.of("SetTableProperties", "UnsetTableProperties", "AddColumns",
      "ReplaceColumns", "DropColumns", "RenameColumn", "AlterColumn", "CommentOnTable", "TruncateTable",
      "TruncatePartition", "AddPartitions", "DropPartitions", "RenamePartitions", "RecoverPartitions", "RepairTable",
      "AnalyzeTable", "AnalyzeColumn", "SetTableSerDeProperties", "SetViewProperties", "UnsetViewProperties",
      "DropTable", "DropIcebergView", "AlterTableSetPropertiesCommand", "AlterTableUnsetPropertiesCommand",
      "AlterTableAddColumnsCommand", "AlterTableChangeColumnCommand", "AlterTableAddPartitionCommand",
      "AlterTableDropPartitionCommand", "AlterTableRenamePartitionCommand", "AlterTableRecoverPartitionsCommand",
      "RepairTableCommand", "TruncateTableCommand", "AnalyzeTableCommand", "AnalyzeColumnCommand",
      "AnalyzePartitionCommand", "AlterTableSerDePropertiesCommand", "AlterViewAsCommand", "DropTableCommand",
      "SetTableLocation", "AlterTableSetLocationCommand");
  // commands that show a table's or view's definition, statistics or partitions
  private static final Set<String> TABLE_DESCRIPTIONS = Set.of("DescribeRelation", "DescribeColumn", "ShowCreateTable",
      "ShowTableProperties", "ShowColumns", "ShowPartitions", "DescribeTableCommand", "DescribeColumnCommand",
      "ShowCreateTableCommand", "ShowCreateTableAsSerdeCommand", "ShowTablePropertiesCommand", "ShowColumnsCommand",
      "ShowPartitionsCommand", "ShowTableExtended", "RefreshTable", "RefreshTableCommand");
  // the v1 commands whose field "table" is the definition of a table they create
  private static final Set<String> TABLE_DEFINITIONS = Set.of("CreateTableCommand", "CreateDataSourceTableCommand",
      "CreateDataSourceTableAsSelectCommand", "CreateHiveTableAsSelectCommand", "OptimizedCreateHiveTableAsSelectCommand");
  // the fields of a command that may hold locations or table definitions
  private static final String[] DEFINITION_FIELDS = {"tableSpec", "table", "tableDesc", "location", "storage",
      "properties", "options", "path", "partitionSpecsAndLocs", "parts", "serdeProperties"};
  // table and namespace properties every user may set (admins: any but those naming a class)
  private static final String COMMENT = "comment";

  private final Subject subject;
  private final Objects objects;
  private final Procedures procedures;

  PlanChecker(Subject subject) {
    this.subject = subject;
    this.objects = new Objects(subject.policy, subject.session);
    this.procedures = new Procedures(subject, objects);
  }

  void check(LogicalPlan plan) {
    walk(plan, false);
  }

  private static String kind(Object node) {
    String name = node.getClass().getSimpleName();
    return name.endsWith("$") ? name.substring(0, name.length() - 1) : name;
  }

  /** secure: inside a secure view's body, where reads are the view's. */
  private void walk(LogicalPlan plan, boolean secure) {
    String kind = kind(plan);
    if (plan instanceof View) {
      view((View) plan, secure);
      return;
    }
    if (TARGET_MARKERS.contains(kind)) {
      return;
    }
    if (Objects.isRelation(plan)) {
      read(plan, secure);
    } else if (plan instanceof Command) {
      command(plan, kind, secure);
    } else if (kind.contains("ScriptTransformation")) {
      throw subject.denied("run", "TRANSFORM ... USING", "a script transformation runs a shell command on the cluster's hosts");
    } else if (plan instanceof LeafNode && !VALUE_LEAVES.contains(kind) && !subject.admin) {
      throw subject.denied("read", kind, "not a table this user is granted");
    }
    for (Expression expression : Scala.<Expression>listOf(plan.expressions())) {
      expression(expression, secure);
    }
    for (LogicalPlan child : Scala.<LogicalPlan>listOf(plan.children())) {
      walk(child, secure);
    }
    for (Object inner : Scala.list(plan.innerChildren())) {
      if (inner instanceof LogicalPlan) {
        walk((LogicalPlan) inner, secure);
      }
    }
  }

  private void view(View view, boolean secure) {
    if (view.isTempView() || secure || subject.admin) {
      walk(view.child(), secure);
      return;
    }
    Objects.Ref ref = objects.ref(view.desc().identifier());
    if (!subject.mayRead(ref.key)) {
      throw subject.denied("read", ref.display, "no grant covers this view");
    }
    walk(view.child(), subject.isSecureView(ref.key));
  }

  private void read(LogicalPlan relation, boolean secure) {
    Objects.Ref ref = objects.relation(relation);
    if (ref == null) {
      if (!subject.admin) {
        throw subject.denied("read", kind(relation) + " " + relation.simpleString(2),
            "a relation that is no table in the catalog (a path or a data source)");
      }
      return;
    }
    if (secure || subject.admin) {
      return;
    }
    if (ref.derived && !subject.mayReadInFull(ref.key)) {
      throw subject.denied("read", ref.display, "a metadata table, snapshot or change log of a table shows every row and column"
          + " as stored; only users who may read the table in full (no protection, no masked column) may read it");
    }
    if (subject.isProtected(ref.key)) {
      throw subject.denied("read", ref.display, "a protected table is read only through its secure views ("
          + String.join(", ", subject.policy.protectedTables.get(ref.key)) + ")");
    }
    if (!subject.mayRead(ref.key)) {
      throw subject.denied("read", ref.display, "no grant covers this table");
    }
  }

  private void expression(Expression expression, boolean secure) {
    if (expression instanceof CallMethodViaReflection) {
      throw subject.denied("call", expression.prettyName(), "reflection runs any static Java method on the server");
    }
    if (expression instanceof UserDefinedExpression && !subject.admin) {
      throw subject.denied("call", ((UserDefinedExpression) expression).name(), "only built-in functions are granted");
    }
    if (expression instanceof SubqueryExpression) {
      walk(((SubqueryExpression) expression).plan(), secure);
    }
    for (Expression child : Scala.<Expression>listOf(expression.children())) {
      expression(child, secure);
    }
  }

  // --- commands
  private void command(LogicalPlan plan, String kind, boolean secure) {
    definitions(plan, kind);
    if (OPEN_COMMANDS.contains(kind)) {
      return;
    }
    switch (kind) {
      case "SetCommand":
        Settings.checkSetCommand(subject, plan);
        return;
      case "ExplainCommand":
      case "DescribeQueryCommand":
        analyzeInner(plan, kind.equals("ExplainCommand") ? "logicalPlan" : "plan");
        return;
      case "AddJarsCommand":
      case "AddFilesCommand":
      case "AddArchivesCommand":
        throw subject.denied("run", kind.replace("Command", "").replace("Add", "ADD ").toUpperCase(Locale.ROOT),
            "resources added through SQL are loaded or read by the server");
      case "CreateFunctionCommand":
      case "CreateFunction":
        throw subject.denied("create", "the function " + Scala.field(plan, "identifier"),
            "a function made from a class runs that class's code on the server");
      case "Call":
        procedures.check(plan);
        return;
      default:
        break;
    }
    if (subject.admin) {
      adminCommand(plan, kind);
      return;
    }
    if (kind.equals("CreateViewCommand")) {
      createView(plan);
    } else if (TABLE_DESCRIPTIONS.contains(kind)) {
      Objects.Ref ref = target(plan);
      boolean view = isView(plan);
      if (view ? !subject.mayRead(ref.key) : !subject.mayReadInFull(ref.key)) {
        throw subject.denied("describe", ref.display, view ? "no grant covers this view"
            : "a table's definition and statistics are shown only to users who may read it in full");
      }
    } else if (TABLE_CHANGES.contains(kind) || ICEBERG_TABLE_CHANGES.contains(kind)) {
      requireWrite(target(plan), kind);
    } else if (kind.equals("RenameTable") || kind.equals("AlterTableRenameCommand")) {
      requireWrite(target(plan), kind);
      Object newName = Scala.field(plan, "newName");
      requireWrite(newName instanceof TableIdentifier ? objects.ref((TableIdentifier) newName) : objects.ref(Scala.strings(newName)), kind);
    } else if (kind.equals("CreateTable") || kind.equals("CreateTableAsSelect") || kind.equals("ReplaceTable")
        || kind.equals("ReplaceTableAsSelect") || kind.equals("CreateIcebergView")) {
      requireWrite(target(plan), kind);
    } else if (TABLE_DEFINITIONS.contains(kind)) {
      Object table = Scala.field(plan, "table") != null ? Scala.field(plan, "table") : Scala.field(plan, "tableDesc");
      requireWrite(objects.ref(((CatalogTable) table).identifier()), kind);
    } else if (kind.equals("CreateTableLikeCommand")) {
      requireWrite(objects.ref((TableIdentifier) Scala.field(plan, "targetTable")), kind);
      Objects.Ref source = objects.ref((TableIdentifier) Scala.field(plan, "sourceTable"));
      if (!subject.mayReadInFull(source.key)) {
        throw subject.denied("copy the definition of", source.display, "only users who may read it in full see its definition");
      }
    } else if (kind.equals("CreateNamespace") || kind.equals("DropNamespace")) {
      String namespace = namespace(plan);
      if (!subject.mayWriteNamespace(namespace)) {
        throw subject.denied(kind.startsWith("Create") ? "create" : "drop", "the namespace " + namespace,
            "namespaces are made and dropped only where this user may write (" + writable() + ")");
      }
    } else if (kind.equals("ShowTables") || kind.equals("ShowViews") || kind.equals("ShowIcebergViews")
        || kind.equals("DescribeNamespace") || kind.equals("ShowTablesCommand") || kind.equals("ShowViewsCommand")) {
      String namespace = namespace(plan);
      if (!subject.maySeeNamespace(namespace)) {
        throw subject.denied("list", "the namespace " + namespace, "no grant in this namespace");
      }
    } else if (kind.equals("AppendData") || kind.equals("OverwriteByExpression") || kind.equals("OverwritePartitionsDynamic")
        || kind.equals("ReplaceData") || kind.equals("WriteDelta")) {
      requireWrite(objects.target(Scala.field(plan, "table")), kind);
    } else if (kind.equals("MergeIntoTable") || kind.equals("UpdateTable") || kind.equals("DeleteFromTable")) {
      requireWrite(objects.target(Scala.field(plan, kind.equals("MergeIntoTable") ? "targetTable" : "table")), kind);
    } else if (kind.equals("InsertIntoHiveTable")) {
      requireWrite(objects.ref(((CatalogTable) Scala.field(plan, "table")).identifier()), kind);
    } else if (kind.equals("InsertIntoHadoopFsRelationCommand")) {
      CatalogTable table = (CatalogTable) Scala.field(plan, "catalogTable");
      if (table == null) {
        throw subject.denied("write", "the path " + Scala.field(plan, "outputPath"), "users write tables, not paths");
      }
      requireWrite(objects.ref(table.identifier()), kind);
    } else if (kind.equals("InsertIntoDataSourceCommand")) {
      requireWrite(objects.target(Scala.field(plan, "logicalRelation")), kind);
    } else if (kind.equals("CreateVariable") || kind.equals("DropVariable") || kind.equals("SetVariable")) {
      return;
    } else {
      throw subject.denied("run", kind, "this command is not among those granted to users who are not admins");
    }
  }

  /** A refused target names no object: the command writes something that is not a table. */
  private void requireWrite(Objects.Ref ref, String kind) {
    if (ref == null) {
      throw subject.denied("run", kind, "it writes something that is not a table in the catalog");
    }
    if (!subject.mayWrite(ref.key)) {
      String why = subject.isProtected(ref.key) || subject.isSecureView(ref.key)
          ? "a protected table or secure view is changed only by admins"
          : "users create, change and drop objects only in the namespaces they may write (" + writable() + ")";
      throw subject.denied("change", ref.display, why);
    }
  }

  private String writable() {
    return subject.grants.writeNamespaces.isEmpty() ? "none" : String.join(", ", subject.grants.writeNamespaces);
  }

  private void createView(LogicalPlan plan) {
    String viewType = String.valueOf(Scala.field(plan, "viewType"));
    TableIdentifier name = (TableIdentifier) Scala.field(plan, "name");
    if (viewType.contains("GlobalTemp")) {
      throw subject.denied("create", "the global temporary view " + name.unquotedString(),
          "a global temporary view is shared with every other session");
    }
    if (!viewType.contains("LocalTemp")) {
      requireWrite(objects.ref(name), "CreateViewCommand");
    }
  }

  /** The object a table command is about: its ResolvedTable/ResolvedIdentifier child or name field. */
  private Objects.Ref target(LogicalPlan plan) {
    for (Object node : targets(plan)) {
      String kind = kind(node);
      if (kind.equals("ResolvedTable") || kind.equals("ResolvedIdentifier") || kind.equals("ResolvedPersistentView")
          || kind.equals("ResolvedV2View")) {
        return objects.ref((CatalogPlugin) Scala.field(node, "catalog"), (Identifier) Scala.field(node, "identifier"));
      }
      if (kind.equals("ResolvedTempView")) {
        return null;
      }
    }
    for (String field : new String[] {"tableName", "table", "tableIdent", "name", "oldName"}) {
      Object value = Scala.field(plan, field);
      if (value instanceof TableIdentifier) {
        return objects.ref((TableIdentifier) value);
      }
      if (value instanceof scala.collection.Seq) {
        return objects.ref(Scala.strings(value));
      }
    }
    return null;
  }

  private boolean isView(LogicalPlan plan) {
    for (Object node : targets(plan)) {
      if (kind(node).contains("View")) {
        return true;
      }
    }
    Object name = Scala.field(plan, "table");
    return name instanceof TableIdentifier && subject.session.sessionState().catalog().isView(((TableIdentifier) name).nameParts());
  }

  private static List<Object> targets(LogicalPlan plan) {
    List<Object> out = new ArrayList<>(Scala.list(plan.children()));
    out.addAll(Scala.list(plan.innerChildren()));
    return out;
  }

  private String namespace(LogicalPlan plan) {
    for (Object node : targets(plan)) {
      if (kind(node).equals("ResolvedNamespace")) {
        return objects.namespaceKey(((CatalogPlugin) Scala.field(node, "catalog")).name(),
            Scala.strings(Scala.field(node, "namespace")));
      }
    }
    Object database = Scala.field(plan, "databaseName");
    if (database == null) {
      database = subject.session.sessionState().catalog().getCurrentDatabase();
    }
    return objects.namespaceKey(Objects.SESSION_CATALOG, List.of(String.valueOf(database)));
  }

  /**
   * What every command's definition may hold: locations, properties, data sources and classes.
   * Users who are not admins give no location at all; admins only object-store ones. Properties
   * that name a class, data sources outside Locations.PROVIDERS and formats that are not Hive's
   * own are refused to everyone.
   */
  private void definitions(LogicalPlan plan, String kind) {
    for (String field : DEFINITION_FIELDS) {
      Object value = Scala.field(plan, field);
      if (value == null || value instanceof LogicalPlan) {
        continue;
      }
      // an INSERT's, a DESCRIBE's, ... table is the stored one: its location is not the user's
      if (field.equals("table") && !TABLE_DEFINITIONS.contains(kind)) {
        continue;
      }
      for (String location : Locations.of(value)) {
        String refusal = subject.admin ? Locations.refusal(location, subject.policy) : "users do not choose where data lives";
        if (refusal != null) {
          throw subject.denied("use the location", location, refusal);
        }
      }
      properties(value);
    }
    Object provider = providerOf(plan);
    if (provider != null && !Locations.PROVIDERS.contains(String.valueOf(provider).toLowerCase(Locale.ROOT))) {
      throw subject.denied("use the data source", String.valueOf(provider), "tables use " + String.join(", ", Locations.PROVIDERS));
    }
    for (String field : new String[] {"table", "tableDesc", "tableSpec", "storage"}) {
      for (String className : Locations.classes(Scala.field(plan, field))) {
        if (!Locations.isHiveClass(className)) {
          throw subject.denied("use the class", className, "only Hive's own serdes and formats are loaded by name");
        }
      }
    }
    if (kind.equals("LoadDataCommand") && Boolean.TRUE.equals(Scala.field(plan, "isLocal"))
        || kind.equals("InsertIntoHiveDirCommand") && Boolean.TRUE.equals(Scala.field(plan, "isLocal"))) {
      throw subject.denied("use", "LOCAL", "the server's own disk is out of reach");
    }
    if (kind.equals("InsertIntoHadoopFsRelationCommand") && Scala.field(plan, "catalogTable") == null) {
      String refusal = subject.admin ? Locations.refusal(String.valueOf(Scala.field(plan, "outputPath")), subject.policy)
          : "users write tables, not paths";
      if (refusal != null) {
        throw subject.denied("write", "the path " + Scala.field(plan, "outputPath"), refusal);
      }
    }
  }

  private static Object providerOf(LogicalPlan plan) {
    Object spec = Scala.field(plan, "tableSpec");
    if (spec != null) {
      return Scala.field(spec, "provider");
    }
    Object table = Scala.field(plan, "table") != null ? Scala.field(plan, "table") : Scala.field(plan, "tableDesc");
    if (table instanceof CatalogTable && (kind(plan).startsWith("Create"))) {
      return Scala.value(((CatalogTable) table).provider());
    }
    return Scala.field(plan, "provider");
  }

  private void properties(Object value) {
    Object v = Scala.value(value);
    Map<String, String> properties;
    if (v instanceof CatalogTable) {
      properties = Scala.map(((CatalogTable) v).properties());
    } else if (v instanceof org.apache.spark.sql.catalyst.plans.logical.TableSpecBase) {
      properties = Scala.map(((org.apache.spark.sql.catalyst.plans.logical.TableSpecBase) v).properties());
      properties.putAll(Scala.map(Scala.field(v, "options")));
    } else if (v instanceof scala.collection.Map) {
      properties = Scala.map(v);
    } else {
      return;
    }
    for (String key : properties.keySet()) {
      if (Locations.CLASS_KEY.matcher(key).matches()) {
        throw subject.denied("set the property", key, "a property that names a class makes the server load it");
      }
      if (!subject.admin && !key.equalsIgnoreCase(COMMENT) && !AuthzPolicy.matchesAny(subject.policy.tableProperties, key)) {
        throw subject.denied("set the property", key, "not among the table properties users may set");
      }
    }
  }

  /** Commands admins run: everything but what reaches the server's disk or leaks across users. */
  private void adminCommand(LogicalPlan plan, String kind) {
    if (kind.startsWith("CacheTable") && dependsOnUser(plan)) {
      throw subject.denied("cache", "a plan that depends on its user", "a cached plan with current_user() or a secure"
          + " view in it would serve one user's rows to every other user (the cache is shared)");
    }
  }

  /** Whether the plan (its children, inner children and subqueries) has current_user() or a secure view. */
  private boolean dependsOnUser(LogicalPlan plan) {
    List<LogicalPlan> nodes = new ArrayList<>();
    for (Object inner : targets(plan)) {
      if (inner instanceof LogicalPlan) {
        collect((LogicalPlan) inner, nodes);
      }
    }
    for (LogicalPlan node : nodes) {
      if (node instanceof View && !((View) node).isTempView()
          && subject.isSecureView(objects.ref(((View) node).desc().identifier()).key)) {
        return true;
      }
      for (Expression e : Scala.<Expression>listOf(node.expressions())) {
        if (e.find(x -> x instanceof CurrentUser).isDefined()) {
          return true;
        }
      }
    }
    return false;
  }

  private static void collect(LogicalPlan plan, List<LogicalPlan> out) {
    out.add(plan);
    for (Object child : targets(plan)) {
      if (child instanceof LogicalPlan) {
        collect((LogicalPlan) child, out);
      }
    }
    for (Expression e : Scala.<Expression>listOf(plan.expressions())) {
      e.foreach(x -> {
        if (x instanceof SubqueryExpression) {
          collect(((SubqueryExpression) x).plan(), out);
        }
        return scala.runtime.BoxedUnit.UNIT;
      });
    }
  }

  /** EXPLAIN and DESCRIBE QUERY hold their query unanalyzed: analyze it now, so it is checked too. */
  private void analyzeInner(LogicalPlan plan, String field) {
    LogicalPlan inner = (LogicalPlan) Scala.field(plan, field);
    if (inner != null) {
      subject.session.sessionState().executePlan(inner, CommandExecutionMode.SKIP()).assertAnalyzed();
    }
  }
}
