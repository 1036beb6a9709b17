package fb.datalake.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.FunctionIdentifier;
import org.apache.spark.sql.catalyst.TableIdentifier;
import org.apache.spark.sql.catalyst.analysis.RelationTimeTravel;
import org.apache.spark.sql.catalyst.analysis.UnresolvedRelation;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.SubqueryExpression;
import org.apache.spark.sql.catalyst.parser.ParseException;
import org.apache.spark.sql.catalyst.parser.ParserInterface;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.execution.datasources.DataSource$;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.StructType;

/**
 * The SQL endpoint's parser, around Spark's and Iceberg's: what must be refused before the
 * analyzer runs, because the analyzer itself would act on it.
 * - A session whose settings a user may not have changed runs nothing (Settings.checkSession):
 *   checked before the text is parsed, since parsing substitutes ${...} variables.
 * - A path-based read (format.`path`) is refused: the analyzer lists and reads those files to
 *   infer their schema, before any check rule sees the plan.
 * - A time-travel timestamp may not hold a subquery: the analyzer runs it to find the snapshot.
 */
final class StatementGuard implements ParserInterface {
  private static final Map<String, Boolean> DATA_SOURCES = new ConcurrentHashMap<>();

  private final SparkSession session;
  private final ParserInterface delegate;
  private Map<String, String> serverSettings;

  StatementGuard(SparkSession session, ParserInterface delegate) {
    this.session = session;
    this.delegate = delegate;
  }

  @Override
  public LogicalPlan parsePlan(String sqlText) throws ParseException {
    Subject subject = Subject.current(session);
    Settings.checkSession(subject, serverSettings());
    return checked(subject, delegate.parsePlan(sqlText));
  }

  @Override
  public LogicalPlan parseQuery(String sqlText) throws ParseException {
    Subject subject = Subject.current(session);
    Settings.checkSession(subject, serverSettings());
    return checked(subject, delegate.parseQuery(sqlText));
  }

  // the server's settings do not change while it runs: read once per session
  private Map<String, String> serverSettings() {
    if (serverSettings == null) {
      serverSettings = Settings.serverSettings(session);
    }
    return serverSettings;
  }

  private LogicalPlan checked(Subject subject, LogicalPlan plan) {
    forEachNode(plan, node -> {
      if (node instanceof UnresolvedRelation) {
        List<String> parts = Scala.strings(((UnresolvedRelation) node).multipartIdentifier());
        if (isPathRead(parts)) {
          throw subject.denied("read", "the path " + parts.get(parts.size() - 1),
              "path-based reads are refused (spark.sql.runSQLOnFiles is off too): read tables");
        }
      } else if (node instanceof RelationTimeTravel) {
        Expression timestamp = (Expression) Scala.value(((RelationTimeTravel) node).timestamp());
        if (timestamp != null && timestamp.find(e -> e instanceof SubqueryExpression).isDefined()) {
          throw subject.denied("time-travel by", "a subquery", "the analyzer runs it before any check");
        }
      }
    });
    return plan;
  }

  /** format.`path`: a name with a path in it, or a data source's name as its first part. */
  private boolean isPathRead(List<String> parts) {
    if (parts.stream().anyMatch(p -> p.indexOf('/') >= 0)) {
      return true;
    }
    if (parts.size() != 2 || session.sessionState().catalogManager().isCatalogRegistered(parts.get(0))) {
      return false;
    }
    return DATA_SOURCES.computeIfAbsent(parts.get(0).toLowerCase(Locale.ROOT), name -> {
      try {
        DataSource$.MODULE$.lookupDataSource(name, session.sessionState().conf());
        return true;
      } catch (Throwable e) { // NOPMD: an unknown name throws ClassNotFoundException wrapped in Spark's own errors
        return false;
      }
    });
  }

  /** Every node of a parsed plan: children, inner children, plan fields, subquery expressions. */
  static void forEachNode(LogicalPlan plan, Consumer<LogicalPlan> visit) {
    List<LogicalPlan> stack = new ArrayList<>();
    stack.add(plan);
    while (!stack.isEmpty()) {
      LogicalPlan node = stack.remove(stack.size() - 1);
      visit.accept(node);
      stack.addAll(Scala.listOf(node.children()));
      for (Object inner : Scala.list(node.innerChildren())) {
        if (inner instanceof LogicalPlan) {
          stack.add((LogicalPlan) inner);
        }
      }
      for (Object field : Scala.list(node.productIterator())) {
        Object value = Scala.value(field);
        if (value instanceof LogicalPlan && !node.children().contains(value)) {
          stack.add((LogicalPlan) value);
        }
      }
      for (Expression expression : Scala.<Expression>listOf(node.expressions())) {
        expression.foreach(e -> {
          if (e instanceof SubqueryExpression) {
            stack.add(((SubqueryExpression) e).plan());
          }
          return scala.runtime.BoxedUnit.UNIT;
        });
      }
    }
  }

  @Override
  public Expression parseExpression(String sqlText) throws ParseException {
    return delegate.parseExpression(sqlText);
  }

  @Override
  public TableIdentifier parseTableIdentifier(String sqlText) throws ParseException {
    return delegate.parseTableIdentifier(sqlText);
  }

  @Override
  public FunctionIdentifier parseFunctionIdentifier(String sqlText) throws ParseException {
    return delegate.parseFunctionIdentifier(sqlText);
  }

  @Override
  public scala.collection.Seq<String> parseMultipartIdentifier(String sqlText) throws ParseException {
    return delegate.parseMultipartIdentifier(sqlText);
  }

  @Override
  public StructType parseTableSchema(String sqlText) throws ParseException {
    return delegate.parseTableSchema(sqlText);
  }

  @Override
  public DataType parseDataType(String sqlText) throws ParseException {
    return delegate.parseDataType(sqlText);
  }
}
