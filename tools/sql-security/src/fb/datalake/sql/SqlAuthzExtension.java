package fb.datalake.sql;

import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.SparkSessionExtensions;
import org.apache.spark.sql.catalyst.parser.ParserInterface;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.rules.Rule;
import scala.Function1;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractFunction2;
import scala.runtime.BoxedUnit;

/**
 * SQL authorization for the SQL endpoint (spark.sql.extensions, after Iceberg's), from the
 * policy file spark.datalake.authz.policy (a setting of the application, which no session can
 * change). Three places, in the order a statement meets them:
 *   StatementGuard - the parser: the session's settings, path-based reads, time-travel subqueries;
 *   ColumnMasks    - a resolution rule: masked columns of the tables a non-admin reads;
 *   PlanChecker    - a check rule: every object and command of the analyzed plan, deny by default.
 * It also keeps sessions from setting the server's JVM system properties (SystemPropertiesGuard).
 */
public final class SqlAuthzExtension extends AbstractFunction1<SparkSessionExtensions, BoxedUnit> {
  @Override
  public BoxedUnit apply(SparkSessionExtensions extensions) {
    SystemPropertiesGuard.install();
    extensions.injectParser(new AbstractFunction2<SparkSession, ParserInterface, ParserInterface>() {
      @Override
      public ParserInterface apply(SparkSession session, ParserInterface delegate) {
        return new StatementGuard(session, delegate);
      }
    });
    extensions.injectResolutionRule(new AbstractFunction1<SparkSession, Rule<LogicalPlan>>() {
      @Override
      public Rule<LogicalPlan> apply(SparkSession session) {
        return new ColumnMasks(session);
      }
    });
    extensions.injectCheckRule(new AbstractFunction1<SparkSession, Function1<LogicalPlan, BoxedUnit>>() {
      @Override
      public Function1<LogicalPlan, BoxedUnit> apply(SparkSession session) {
        return new AbstractFunction1<LogicalPlan, BoxedUnit>() {
          @Override
          public BoxedUnit apply(LogicalPlan plan) {
            // Spark also checks parts of a plan alone (a view's body while it resolves the view,
            // each subquery): the statement's whole plan, which holds them under their View node
            // or expression, is checked anyway - with the context (a secure view) they need
            Subject.Frames frames = Subject.Frames.now();
            if (!frames.partAlone) {
              Subject subject = Subject.current(session, frames);
              if (!subject.internal) {
                new PlanChecker(subject).check(plan);
              }
            }
            return BoxedUnit.UNIT;
          }
        };
      }
    });
    return BoxedUnit.UNIT;
  }

}
