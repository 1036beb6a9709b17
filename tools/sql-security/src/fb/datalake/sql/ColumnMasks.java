package fb.datalake.sql;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.catalyst.expressions.Alias;
import org.apache.spark.sql.catalyst.expressions.Attribute;
import org.apache.spark.sql.catalyst.expressions.AttributeReference;
import org.apache.spark.sql.catalyst.expressions.Expression;
import org.apache.spark.sql.catalyst.expressions.Literal$;
import org.apache.spark.sql.catalyst.expressions.NamedExpression;
import org.apache.spark.sql.catalyst.expressions.NamedExpression$;
import org.apache.spark.sql.catalyst.plans.logical.LogicalPlan;
import org.apache.spark.sql.catalyst.plans.logical.Project;
import org.apache.spark.sql.catalyst.plans.logical.SubqueryAlias;
import org.apache.spark.sql.catalyst.rules.Rule;
import org.apache.spark.sql.catalyst.trees.TreeNodeTag;
import org.apache.spark.sql.types.StringType;
import scala.Option;
import scala.Tuple2;
import scala.runtime.AbstractFunction1;
import scala.runtime.AbstractPartialFunction;

/**
 * Column masks (a resolution rule): for a user who is not an admin, each relation of a masked
 * table is read through a Project that replaces the masked columns - wherever the table is read,
 * inside views and secure views too. The Project's columns get new expression ids and the plan
 * above is re-pointed at them (transformUpWithNewOutput): a Project that reused the table's ids
 * would be dropped by the optimizer as a no-op. It is tagged, so the rule applies once.
 *   null     - NULL of the column's type
 *   hash     - sha2(value, 256) of a string column (NULL for other types)
 *   partial  - a string with all but its last show_last characters replaced by x (NULL otherwise)
 */
final class ColumnMasks extends Rule<LogicalPlan> {
  private static final long serialVersionUID = 1L;
  static final TreeNodeTag<Object> MASKED = TreeNodeTag.apply("datalake.masked");
  private static final TreeNodeTag<Object> WRITE_TARGET = TreeNodeTag.apply("datalake.writeTarget");
  private static final String COLUMN = "__datalake_masked_column";

  private final transient SparkSession session;

  ColumnMasks(SparkSession session) {
    this.session = session;
  }

  @Override
  public LogicalPlan apply(LogicalPlan plan) {
    // the whole plan resolved first: the references above a relation can then be re-pointed
    if (!plan.resolved() || plan.getTagValue(MASKED).isDefined()) {
      return plan;
    }
    Subject subject = Subject.current(session);
    if (subject.admin || subject.policy.masks.isEmpty()) {
      return plan;
    }
    markWriteTargets(plan);
    Objects objects = new Objects(subject.policy, session);
    AbstractPartialFunction<LogicalPlan, Tuple2<LogicalPlan, scala.collection.Seq<Tuple2<Attribute, Attribute>>>> mask =
        new AbstractPartialFunction<LogicalPlan, Tuple2<LogicalPlan, scala.collection.Seq<Tuple2<Attribute, Attribute>>>>() {
          @Override
          public boolean isDefinedAt(LogicalPlan node) {
            return masksOf(objects, subject, node) != null && node.getTagValue(WRITE_TARGET).isEmpty();
          }

          @Override
          public Tuple2<LogicalPlan, scala.collection.Seq<Tuple2<Attribute, Attribute>>> apply(LogicalPlan node) {
            return masked(node, masksOf(objects, subject, node));
          }
        };
    AbstractFunction1<LogicalPlan, Object> alreadyMasked = new AbstractFunction1<LogicalPlan, Object>() {
      @Override
      public Object apply(LogicalPlan node) {
        return node.getTagValue(MASKED).isDefined();
      }
    };
    return plan.transformUpWithNewOutput(mask, alreadyMasked, plan.transformUpWithNewOutput$default$3());
  }

  private static Map<String, AuthzPolicy.Mask> masksOf(Objects objects, Subject subject, LogicalPlan node) {
    if (!Objects.isRelation(node)) {
      return null;
    }
    Objects.Ref ref = objects.relation(node);
    return ref == null ? null : subject.policy.masks.get(ref.key);
  }

  // MERGE, UPDATE and DELETE rewrite their target relation as it is: it is never wrapped
  private static void markWriteTargets(LogicalPlan plan) {
    Object target = Scala.field(plan, plan.getClass().getSimpleName().equals("MergeIntoTable") ? "targetTable" : "table");
    while (target instanceof SubqueryAlias) {
      target = ((SubqueryAlias) target).child();
    }
    if (target instanceof LogicalPlan && Objects.isRelation((LogicalPlan) target)) {
      ((LogicalPlan) target).setTagValue(WRITE_TARGET, Boolean.TRUE);
    }
  }

  private Tuple2<LogicalPlan, scala.collection.Seq<Tuple2<Attribute, Attribute>>> masked(
      LogicalPlan relation, Map<String, AuthzPolicy.Mask> masks) {
    List<NamedExpression> columns = new ArrayList<>();
    List<Tuple2<Attribute, Attribute>> renamed = new ArrayList<>();
    for (Attribute column : Scala.<Attribute>listOf(relation.output())) {
      AuthzPolicy.Mask mask = masks.get(column.name().toLowerCase(Locale.ROOT));
      if (mask == null) {
        columns.add(column);
        continue;
      }
      AttributeReference out = new AttributeReference(column.name(), column.dataType(), true, column.metadata(),
          NamedExpression$.MODULE$.newExprId(), column.qualifier());
      columns.add(new Alias(expression(column, mask), column.name(), out.exprId(), column.qualifier(), Option.empty(),
          Scala.seq(new ArrayList<String>())));
      renamed.add(new Tuple2<>(column, out));
    }
    Project project = new Project(Scala.seq(columns), relation);
    project.setTagValue(MASKED, Boolean.TRUE);
    return new Tuple2<>(project, Scala.seq(renamed));
  }

  /**
   * The mask's expression, resolved: parsed with the column as a placeholder, analyzed over a
   * one-column relation (its functions and types resolved), then pointed at the column itself.
   */
  private Expression expression(Attribute column, AuthzPolicy.Mask mask) {
    if (!(column.dataType() instanceof StringType) || !(mask.type.equals("hash") || mask.type.equals("partial"))) {
      return Literal$.MODULE$.create(null, column.dataType());
    }
    String template;
    if (mask.type.equals("hash")) {
      template = "sha2(" + COLUMN + ", 256)";
    } else if (mask.showLast <= 0) {
      template = "regexp_replace(" + COLUMN + ", '(?s).', 'x')";
    } else {
      int n = mask.showLast;
      template = "CASE WHEN length(" + COLUMN + ") > " + n + " THEN concat(regexp_replace(substring(" + COLUMN + ", 1, length("
          + COLUMN + ") - " + n + "), '(?s).', 'x'), substring(" + COLUMN + ", -" + n + ", " + n + ")) ELSE regexp_replace("
          + COLUMN + ", '(?s).', 'x') END";
    }
    AttributeReference placeholder = new AttributeReference(COLUMN, column.dataType(), true, column.metadata(),
        NamedExpression$.MODULE$.newExprId(), Scala.seq(new ArrayList<String>()));
    LogicalPlan resolved;
    try {
      Expression parsed = session.sessionState().sqlParser().parseExpression(template);
      Alias alias = new Alias(parsed, COLUMN, NamedExpression$.MODULE$.newExprId(), Scala.seq(new ArrayList<String>()),
          Option.empty(), Scala.seq(new ArrayList<String>()));
      LogicalPlan plan = new Project(Scala.seq(List.<NamedExpression>of(alias)),
          org.apache.spark.sql.catalyst.plans.logical.LocalRelation$.MODULE$.apply(Scala.seq(List.<Attribute>of(placeholder))));
      resolved = session.sessionState().analyzer().execute(plan);
    } catch (org.apache.spark.sql.catalyst.parser.ParseException e) {
      throw new IllegalStateException("the mask expression does not parse: " + template, e);
    }
    Expression masked = ((Alias) Scala.<NamedExpression>listOf(((Project) resolved).projectList()).get(0)).child();
    return masked.transform(new AbstractPartialFunction<Expression, Expression>() {
      @Override
      public boolean isDefinedAt(Expression e) {
        return e instanceof AttributeReference && ((AttributeReference) e).exprId().equals(placeholder.exprId());
      }

      @Override
      public Expression apply(Expression e) {
        return column;
      }
    });
  }
}
