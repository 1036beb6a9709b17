package fb.datalake.sql;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.apache.spark.sql.catalyst.CurrentUserContext$;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.V2WriteCommand;
import org.apache.spark.sql.catalyst.plans.logical.View;
import org.apache.spark.sql.execution.datasources.v2.DataSourceV2Relation;
import scala.Function1;
import scala.collection.JavaConverters;
import scala.runtime.AbstractFunction1;
import scala.runtime.BoxedUnit;

/**
 * Row-level access for the SQL endpoint (spark.sql.extensions): a user who is not in
 * spark.datalake.rowaccess.admins reads a protected table (spark.datalake.rowaccess.tables,
 * catalog.namespace.table) only through one of the secure views (spark.datalake.rowaccess.views),
 * which filter rows by current_user(); any other plan that reaches a protected table - a direct
 * SELECT, the user's own view, a write - is refused at analysis, and so is a statement that
 * creates, replaces or drops a secure view.
 */
public final class RowAccessExtension extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {
  static final String PREFIX = "spark.datalake.rowaccess.";

  // from the application's own configuration: a session's SET cannot change these
  static Set<String> names(SparkSession session, String key) {
    String value = session.sparkContext().getConf().get(PREFIX + key, "");
    return Arrays.stream(value.split(",")).map(String::trim).filter(s -> !s.isEmpty())
        .map(s -> key.equals("views") ? normalized(s) : s.toLowerCase(Locale.ROOT))
        .collect(Collectors.toCollection(HashSet::new));
  }

  // "spark_catalog.db.view" and "db.view" name the same session-catalog view
  static String normalized(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return lower.startsWith("spark_catalog.") ? lower.substring("spark_catalog.".length()) : lower;
  }

  static String user(SparkSession session) {
    String user = CurrentUserContext$.MODULE$.CURRENT_USER().get();
    return user != null ? user : session.sparkContext().sparkUser();
  }

  static String relationName(DataSourceV2Relation relation) {
    if (relation.catalog().isEmpty() || relation.identifier().isEmpty()) {
      return relation.table().name().toLowerCase(Locale.ROOT);
    }
    return (relation.catalog().get().name() + "." + relation.identifier().get().toString()).toLowerCase(Locale.ROOT);
  }

  static void check(LogicalPlan plan, boolean throughSecureView, Set<String> tables, Set<String> views, String user) {
    boolean allowed = throughSecureView;
    if (plan instanceof View) {
      View view = (View) plan;
      allowed = !view.isTempView() && views.contains(normalized(view.desc().identifier().unquotedString()));
    }
    // a view command (CREATE OR REPLACE VIEW, ALTER VIEW, DROP VIEW) names its view this way
    for (Object field : JavaConverters.seqAsJavaList(plan.productIterator().toSeq())) {
      if (field instanceof TableIdentifier && views.contains(normalized(((TableIdentifier) field).unquotedString()))) {
        throw new SecurityException("user " + user + " may not change the secure view " + field);
      }
    }
    if (plan instanceof DataSourceV2Relation) {
      String name = relationName((DataSourceV2Relation) plan);
      if (tables.contains(name) && !allowed) {
        throw new SecurityException("user " + user + " may read " + name + " only through its secure views");
      }
    }
    if (plan instanceof V2WriteCommand && ((V2WriteCommand) plan).table() instanceof DataSourceV2Relation) {
      String name = relationName((DataSourceV2Relation) ((V2WriteCommand) plan).table());
      if (tables.contains(name)) {
        throw new SecurityException("user " + user + " may not write " + name);
      }
    }
    for (LogicalPlan child : JavaConverters.seqAsJavaList(plan.children())) {
      check(child, allowed, tables, views, user);
    }
    for (LogicalPlan subquery : JavaConverters.seqAsJavaList(plan.subqueries())) {
      check(subquery, allowed, tables, views, user);
    }
    // the query of a view command, once analyzed, is no longer a child of the command
    for (Object inner : JavaConverters.seqAsJavaList(plan.innerChildren())) {
      if (inner instanceof LogicalPlan) {
        check((LogicalPlan) inner, allowed, tables, views, user);
      }
    }
  }

  /** Whether the analyzer checks a view's body while it resolves the view (ResolveRelations). */
  static boolean resolvingView() {
    return StackWalker.getInstance().walk(frames -> frames.anyMatch(
        f -> f.getMethodName().endsWith("resolveViews") && f.getClassName().contains("ResolveRelations")));
  }

  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    extensions.injectCheckRule(new AbstractFunction1<SparkSession, Function1<LogicalPlan, BoxedUnit>>() {
      @Override
      public Function1<LogicalPlan, BoxedUnit> apply(SparkSession session) {
        return new AbstractFunction1<LogicalPlan, BoxedUnit>() {
          @Override
          public BoxedUnit apply(LogicalPlan plan) {
            // a view's body is also checked alone while the view is resolved: the query that
            // uses the view is checked with it (under its View node), so the body alone is not
            if (resolvingView()) {
              return BoxedUnit.UNIT;
            }
            String user = user(session);
            if (!names(session, "admins").contains(user.toLowerCase(Locale.ROOT))) {
              check(plan, false, names(session, "tables"), names(session, "views"), user);
            }
            return BoxedUnit.UNIT;
          }
        };
      }
    });
    return BoxedUnit.UNIT;
  }
}
