"""Spark + Iceberg validation (the seed's T6.4.1): a Spark application on the standalone master
creates an Iceberg table in the `lakehouse` catalog (Hive Metastore, data on MinIO), writes
generated rows, counts them back, times the seed's GROUP BY department, merges a batch, and
reads the first snapshot back with VERSION AS OF, and appends to a ledger table that is never
dropped (its row count is the number of validation runs the data survived: at least the
--expected-runs the controller recorded for this cluster before this one).

Writes a JSON list of checks ({name, passed, figure, unit, detail}) to --output, even when a
step fails (the failing step is recorded, later steps are skipped).
"""

import argparse
import json
import statistics
import time
import traceback

from pyspark.sql import SparkSession

DEPARTMENTS = ["engineering", "finance", "marketing", "operations", "sales"]
MERGE_MARKER = 99999.99


class Checks(list):
    def add(self, name, passed, figure=None, unit=None, detail=None):
        self.append({"name": name, "passed": bool(passed), "figure": figure, "unit": unit, "detail": detail})


def generated_rows(spark, start, end, columns):
    """Rows id in [start, end) with a department from the id and the other columns' SQL expressions."""
    product_expr, amount_expr, date_expr = columns
    departments = "array(" + ", ".join(f"'{d}'" for d in DEPARTMENTS) + ")"
    return spark.range(start, end).selectExpr(
        "id",
        f"element_at({departments}, cast(id % {len(DEPARTMENTS)} as int) + 1) AS department",
        f"{product_expr} AS product",
        f"cast({amount_expr} as decimal(12,2)) AS amount",
        f"{date_expr} AS sale_date",
    )


def create_table(spark, args, table, checks):
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {args.catalog}.{args.namespace}")
    spark.sql(f"DROP TABLE IF EXISTS {table} PURGE")
    spark.sql(f"""CREATE TABLE {table} (
                    id BIGINT, department STRING, product STRING, amount DECIMAL(12,2), sale_date DATE)
                  USING iceberg PARTITIONED BY (department)""")
    location = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").filter("col_name = 'Location'").collect()[0][1]
    checks.add("iceberg_table_on_minio", location.startswith(args.warehouse_prefix), None, None, location)


def write_and_read(spark, args, table, checks):
    columns = (
        "concat('product-', cast(id % 97 as string))",
        "(id % 1000) + 0.5",
        "date_add(date'2025-01-01', cast(id % 365 as int))",
    )
    rows = generated_rows(spark, 0, args.rows, columns)
    started = time.monotonic()
    rows.writeTo(table).append()
    elapsed = time.monotonic() - started
    rate = round(args.rows / elapsed)
    detail = f"{args.rows} rows in {elapsed:.2f} s (at least {args.min_write_rate} rows/s expected)"
    checks.add("write_rows_per_second", rate >= args.min_write_rate, rate, "rows/s", detail)

    counted = spark.table(table).count()
    checks.add("count_after_write", counted == args.rows, counted, "rows", f"expected {args.rows}")

    paths = [row.file_path for row in spark.sql(f"SELECT file_path FROM {table}.files").collect()]
    on_minio = [path for path in paths if path.startswith(args.warehouse_prefix)]
    checks.add(
        "data_files_on_minio",
        paths and len(on_minio) == len(paths),
        len(paths),
        "files",
        paths[0] if paths else "no data files",
    )


def group_by_department(spark, args, table, checks):
    query = f"SELECT department, COUNT(*) AS cnt FROM {table} GROUP BY department"
    timings, result = [], []
    for _ in range(3):
        started = time.monotonic()
        result = spark.sql(query).collect()
        timings.append(time.monotonic() - started)
    grouped = {row.department: row.cnt for row in result}
    checks.add(
        "group_by_department_seconds",
        sorted(grouped) == DEPARTMENTS and sum(grouped.values()) == args.rows,
        round(statistics.median(timings), 3),
        "s",
        f"median of 3; runs {[round(t, 3) for t in timings]}; groups {grouped}",
    )


def merge_and_time_travel(spark, args, table, checks):
    snapshots_query = f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at LIMIT 1"
    first_snapshot = spark.sql(snapshots_query).collect()[0][0]
    columns = ("'merged'", str(MERGE_MARKER), "date'2025-12-31'")
    batch = generated_rows(spark, args.rows - args.merge_updates, args.rows + args.merge_inserts, columns)
    batch.createOrReplaceTempView("merge_batch")
    started = time.monotonic()
    spark.sql(f"""MERGE INTO {table} t USING merge_batch s ON t.id = s.id
                  WHEN MATCHED THEN UPDATE SET t.amount = s.amount, t.product = s.product
                  WHEN NOT MATCHED THEN INSERT *""")
    merge_seconds = time.monotonic() - started
    tally = f"SELECT COUNT(*) AS total, SUM(CASE WHEN amount = {MERGE_MARKER} THEN 1 ELSE 0 END) AS merged FROM {table}"
    after = spark.sql(tally).collect()[0]
    total, merged = args.rows + args.merge_inserts, args.merge_updates + args.merge_inserts
    checks.add(
        "merge_into",
        after.total == total and after.merged == merged,
        round(merge_seconds, 2),
        "s",
        f"rows {after.total} (expected {total}), merged {after.merged} (expected {merged})",
    )

    before = spark.sql(f"{tally} VERSION AS OF {first_snapshot}").collect()[0]
    checks.add(
        "time_travel_version_as_of",
        before.total == args.rows and not before.merged,
        before.total,
        "rows",
        f"snapshot {first_snapshot}: {before.total} rows, {before.merged} merged (expected {args.rows}, 0)",
    )
    snapshots = spark.sql(f"SELECT COUNT(*) FROM {table}.snapshots").collect()[0][0]
    checks.add("snapshots", snapshots >= 2, snapshots, "snapshots")


def runs_ledger(spark, args, _table, checks):
    """An Iceberg table the validation never drops: one row per run, so its count shows that
    earlier runs' data survived every re-deploy in between."""
    ledger = f"{args.catalog}.{args.namespace}.runs"
    spark.sql(f"CREATE TABLE IF NOT EXISTS {ledger} (run_at TIMESTAMP, rows_written BIGINT) USING iceberg")
    before = spark.table(ledger).count()
    spark.sql(f"INSERT INTO {ledger} VALUES (current_timestamp(), {args.rows})")
    after = spark.table(ledger).count()
    detail = f"{before} earlier runs kept (the controller recorded {args.expected_runs}), this one added"
    checks.add("validation_runs_kept", before >= args.expected_runs and after == before + 1, after, "runs", detail)


def parse_args():
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", default="lakehouse")
    parser.add_argument("--namespace", default="validation")
    parser.add_argument("--table", default="vendas")
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--merge-updates", type=int, default=1000)
    parser.add_argument("--merge-inserts", type=int, default=500)
    parser.add_argument("--warehouse-prefix", default="s3a://warehouse/")
    # the runs the ledger held after the last validation this controller recorded for the cluster
    parser.add_argument("--expected-runs", type=int, default=0)
    parser.add_argument("--min-write-rate", type=int, default=1000, help="rows/s the write must reach")
    parser.add_argument("--output", required=True)
    return parser.parse_args()


def main():
    args = parse_args()
    checks = Checks()
    table = f"{args.catalog}.{args.namespace}.{args.table}"
    spark = None
    try:
        started = time.monotonic()
        spark = SparkSession.builder.appName("datalake-fb-validation").getOrCreate()
        master = spark.sparkContext.master
        checks.add(
            "spark_session_on_master", master.startswith("spark://"), round(time.monotonic() - started, 2), "s", master
        )
        for step in (create_table, write_and_read, group_by_department, merge_and_time_travel, runs_ledger):
            step(spark, args, table, checks)
    except Exception:  # noqa: BLE001 - any failure is a failed check with its traceback
        checks.add("spark_validation_completed", False, None, None, traceback.format_exc()[-2000:])
    finally:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(checks, handle, indent=2)
        if spark is not None:
            spark.stop()


if __name__ == "__main__":
    main()
