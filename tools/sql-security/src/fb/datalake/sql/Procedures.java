package fb.datalake.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.spark.sql.catalyst.analysis.UnresolvedFunction;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;

/**
 * CALL of an Iceberg procedure (plan node Call: the procedure object and its arguments in
 * parameter order). Users who are not admins call only the maintenance procedures, on tables they
 * may write, with no argument that names a file, a location or a view. Admins call any, but every
 * argument that names a location must be on the object store, and a where clause may hold
 * neither a subquery nor a function outside Spark's built-ins.
 */
final class Procedures {
  static final Set<String> MAINTENANCE = Set.of("rewrite_data_files", "rewrite_manifests", "expire_snapshots",
      "rewrite_position_delete_files", "remove_orphan_files", "rollback_to_snapshot", "rollback_to_timestamp",
      "set_current_snapshot", "cherrypick_snapshot", "fast_forward", "publish_changes", "compute_table_stats",
      "compute_partition_stats", "ancestors_of");
  // arguments that name files, locations, other tables or views
  static final Set<String> PATH_ARGUMENTS = Set.of("location", "file_list_view", "metadata_file", "source_table",
      "source_prefix", "target_prefix", "staging_location", "backup_table_name", "changelog_view", "start_version",
      "end_version");
  private static final Set<String> REFLECTION = Set.of("reflect", "java_method", "try_reflect");

  private final Subject subject;
  private final Objects objects;

  Procedures(Subject subject, Objects objects) {
    this.subject = subject;
    this.objects = objects;
  }

  /** AddFilesProcedure -> add_files. */
  static String procedureName(Object procedure) {
    String simple = procedure.getClass().getSimpleName().replaceAll("Procedure$", "");
    return simple.replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase(Locale.ROOT);
  }

  static List<String> parameterNames(Object procedure) {
    List<String> names = new ArrayList<>();
    for (Object parameter : (Object[]) Scala.callPublic(procedure, "parameters")) {
      names.add(String.valueOf(Scala.callPublic(parameter, "name")));
    }
    return names;
  }

  void check(LogicalPlan call) {
    Object procedure = Scala.field(call, "procedure");
    String name = procedureName(procedure);
    List<String> parameters = parameterNames(procedure);
    List<Expression> args = Scala.listOf(Scala.field(call, "args"));
    if (!subject.admin && !MAINTENANCE.contains(name)) {
      throw subject.denied("call", name, "users call only the maintenance procedures (" + String.join(", ", MAINTENANCE) + ")");
    }
    for (int i = 0; i < args.size() && i < parameters.size(); i++) {
      Object value = literal(args.get(i));
      if (value == null) {
        continue;
      }
      String parameter = parameters.get(i);
      String text = String.valueOf(value);
      if (parameter.equals("table")) {
        Objects.Ref table = objects.ref(List.of(text.split("\\.")));
        if (!subject.mayWrite(table.key)) {
          throw subject.denied("call " + name + " on", table.display, "procedures change the table: only where this user may write");
        }
      } else if (PATH_ARGUMENTS.contains(parameter)) {
        if (!subject.admin) {
          throw subject.denied("give " + name + " the argument", parameter, "it names files, locations or other objects");
        }
        for (String location : locations(text)) {
          String refusal = Locations.refusal(location, subject.policy);
          if (refusal != null) {
            throw subject.denied("give " + name + " the location", location, refusal);
          }
        }
      } else if (parameter.equals("where")) {
        checkWhere(name, text);
      }
    }
  }

  private static Object literal(Expression arg) {
    return arg.foldable() ? arg.eval(null) : null;
  }

  /** The locations a string argument may hold: itself, or the `path` of `format`.`path`. */
  static List<String> locations(String text) {
    List<String> out = new ArrayList<>();
    int tick = text.indexOf('`');
    String path = tick >= 0 ? text.substring(text.indexOf('`', tick + 1) + 1).replaceAll("^[.]`?|`$", "") : text;
    if (path.contains("/") || path.contains(":")) {
      out.add(path);
    }
    return out;
  }

  private void checkWhere(String procedure, String where) {
    Expression expression;
    try {
      expression = subject.session.sessionState().sqlParser().parseExpression(where);
    } catch (org.apache.spark.sql.catalyst.parser.ParseException | RuntimeException e) {
      throw subject.denied("give " + procedure + " the where clause", where, "it does not parse");
    }
    boolean unsafe = expression.find(e -> e instanceof SubqueryExpression
        || e instanceof UnresolvedFunction && (REFLECTION.contains(((UnresolvedFunction) e).nameParts().last().toLowerCase(Locale.ROOT))
            || !subject.session.sessionState().functionRegistry().functionExists(
                org.apache.spark.sql.catalyst.FunctionIdentifier.apply(((UnresolvedFunction) e).nameParts().last())))).isDefined();
    if (unsafe) {
      throw subject.denied("give " + procedure + " the where clause", where,
          "a filter holds no subquery, no reflection and no function outside Spark's built-ins");
    }
  }
}
