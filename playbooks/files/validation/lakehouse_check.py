"""Spark + Iceberg validation (the seed's T6.4.1): a Spark application on the standalone master
creates an Iceberg table in the `lakehouse` catalog (Hive Metastore, data on MinIO), writes
generated rows, counts them back, times the seed's GROUP BY department, merges a batch, and
reads the first snapshot back with VERSION AS OF.

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


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", default="lakehouse")
    parser.add_argument("--namespace", default="validation")
    parser.add_argument("--table", default="vendas")
    parser.add_argument("--rows", type=int, default=100000)
    parser.add_argument("--merge-updates", type=int, default=1000)
    parser.add_argument("--merge-inserts", type=int, default=500)
    parser.add_argument("--warehouse-prefix", default="s3a://warehouse/")
    parser.add_argument("--output", required=True)
    args = parser.parse_args()

    checks = []

    def check(name, passed, figure=None, unit=None, detail=None):
        checks.append({"name": name, "passed": bool(passed), "figure": figure, "unit": unit, "detail": detail})
        return passed

    def save():
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(checks, handle, indent=2)

    spark = None
    table = f"{args.catalog}.{args.namespace}.{args.table}"
    try:
        started = time.monotonic()
        spark = SparkSession.builder.appName("datalake-fb-validation").getOrCreate()
        check("spark_session_on_master", spark.sparkContext.master.startswith("spark://"),
              round(time.monotonic() - started, 2), "s", spark.sparkContext.master)

        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {args.catalog}.{args.namespace}")
        spark.sql(f"DROP TABLE IF EXISTS {table} PURGE")
        spark.sql(f"""CREATE TABLE {table} (
                        id BIGINT, department STRING, product STRING, amount DECIMAL(12,2), sale_date DATE)
                      USING iceberg PARTITIONED BY (department)""")
        location = spark.sql(f"DESCRIBE TABLE EXTENDED {table}").filter("col_name = 'Location'").collect()[0][1]
        check("iceberg_table_on_minio", location.startswith(args.warehouse_prefix), None, None, location)

        departments = "array(" + ", ".join(f"'{d}'" for d in DEPARTMENTS) + ")"
        generated = spark.range(args.rows).selectExpr(
            "id",
            f"element_at({departments}, cast(id % {len(DEPARTMENTS)} as int) + 1) AS department",
            "concat('product-', cast(id % 97 as string)) AS product",
            "cast((id % 1000) + 0.5 as decimal(12,2)) AS amount",
            "date_add(date'2025-01-01', cast(id % 365 as int)) AS sale_date",
        )
        started = time.monotonic()
        generated.writeTo(table).append()
        elapsed = time.monotonic() - started
        check("write_rows_per_second", True, round(args.rows / elapsed), "rows/s",
              f"{args.rows} rows in {elapsed:.2f} s")

        counted = spark.table(table).count()
        check("count_after_write", counted == args.rows, counted, "rows", f"expected {args.rows}")

        files = spark.sql(f"SELECT file_path FROM {table}.files").collect()
        on_minio = [row.file_path for row in files if row.file_path.startswith(args.warehouse_prefix)]
        check("data_files_on_minio", files and len(on_minio) == len(files), len(files), "files",
              files[0].file_path if files else "no data files")

        query = f"SELECT department, COUNT(*) AS cnt FROM {table} GROUP BY department"
        timings, result = [], []
        for _ in range(3):
            started = time.monotonic()
            result = spark.sql(query).collect()
            timings.append(time.monotonic() - started)
        grouped = {row.department: row.cnt for row in result}
        check("group_by_department_seconds", sorted(grouped) == DEPARTMENTS and sum(grouped.values()) == args.rows,
              round(statistics.median(timings), 3), "s",
              f"first {timings[0]:.3f} s, runs {[round(t, 3) for t in timings]}, groups {grouped}")

        first_snapshot = spark.sql(
            f"SELECT snapshot_id FROM {table}.snapshots ORDER BY committed_at LIMIT 1").collect()[0][0]

        marker = 99999.99
        spark.range(args.rows - args.merge_updates, args.rows + args.merge_inserts).selectExpr(
            "id",
            f"element_at({departments}, cast(id % {len(DEPARTMENTS)} as int) + 1) AS department",
            "'merged' AS product",
            f"cast({marker} as decimal(12,2)) AS amount",
            "date'2025-12-31' AS sale_date",
        ).createOrReplaceTempView("merge_batch")
        started = time.monotonic()
        spark.sql(f"""MERGE INTO {table} t USING merge_batch s ON t.id = s.id
                      WHEN MATCHED THEN UPDATE SET t.amount = s.amount, t.product = s.product
                      WHEN NOT MATCHED THEN INSERT *""")
        merge_seconds = time.monotonic() - started
        after = spark.sql(
            f"SELECT COUNT(*) AS total, SUM(CASE WHEN amount = {marker} THEN 1 ELSE 0 END) AS merged FROM {table}"
        ).collect()[0]
        expected_total = args.rows + args.merge_inserts
        expected_merged = args.merge_updates + args.merge_inserts
        check("merge_into", after.total == expected_total and after.merged == expected_merged,
              round(merge_seconds, 2), "s",
              f"rows {after.total} (expected {expected_total}), merged {after.merged} (expected {expected_merged})")

        before = spark.sql(
            f"SELECT COUNT(*) AS total, SUM(CASE WHEN amount = {marker} THEN 1 ELSE 0 END) AS merged "
            f"FROM {table} VERSION AS OF {first_snapshot}").collect()[0]
        check("time_travel_version_as_of", before.total == args.rows and before.merged == 0, before.total, "rows",
              f"snapshot {first_snapshot}: {before.total} rows, {before.merged} merged (expected {args.rows}, 0)")

        snapshots = spark.sql(f"SELECT COUNT(*) FROM {table}.snapshots").collect()[0][0]
        check("snapshots", snapshots >= 2, snapshots, "snapshots")
    except Exception:  # noqa: BLE001 - any failure is a failed check with its traceback
        check("spark_validation_completed", False, None, None, traceback.format_exc()[-2000:])
    finally:
        save()
        if spark is not None:
            spark.stop()


if __name__ == "__main__":
    main()
