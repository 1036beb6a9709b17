"""Iceberg workloads for the maintenance tests and benchmarks (a Spark application per call).

  create     a table written by many small commits (the small-file problem streams make)
  state      row count, distinct ids, a content checksum, current snapshot and data files
             (and the same AS OF a snapshot, and for the ids below a bound)
  append     a writer that appends batches with pauses, recording every acknowledged batch;
             with --stop-file, it stops --batches-after-stop batches after that file appears
             (so a test knows writes went on during and after what it did meanwhile)
  queries    the median time of a full scan and of the seed's GROUP BY department
  baseline   write throughput, size and query times per Parquet codec and table size
  merge-modes  copy-on-write against merge-on-read under CDC-like MERGE batches (updates spread
             over every file, some deletes and inserts): each batch's MERGE time, the scan time
             afterwards, the files and bytes each mode leaves
  drop       drop the table and its files

Each prints nothing but writes one JSON object to --output (append: after every batch).
Rows look like the validation's sales rows: id, department (the partition), product, amount, date.
"""

import argparse
import json
import math
import os
import statistics
import time

from pyspark.sql import SparkSession

DEPARTMENTS = ["engineering", "finance", "marketing", "operations", "sales"]
CHECKSUM = "sum(cast(xxhash64(id, department, product, amount, sale_date) AS DECIMAL(38,0)))"
DEPARTMENT_EXPR = "element_at(array({}), cast(id % {} AS INT) + 1)".format(
    ", ".join(f"'{d}'" for d in DEPARTMENTS), len(DEPARTMENTS)
)


def write_json(path, data):
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2, default=str)
    os.replace(temporary, path)


def rows(spark, start, count):
    return spark.range(start, start + count).selectExpr(
        "id",
        f"{DEPARTMENT_EXPR} AS department",
        "concat('product-', cast(id % 97 AS STRING)) AS product",
        "cast((id % 1000) + 0.5 AS DECIMAL(12,2)) AS amount",
        "date_add(date'2025-01-01', cast(id % 365 AS INT)) AS sale_date",
    )


def create_table(spark, table, properties=None):
    namespace = table.rsplit(".", 1)[0]
    spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {namespace}")
    spark.sql(f"DROP TABLE IF EXISTS {table} PURGE")
    props = ", ".join(f"'{k}' = '{v}'" for k, v in (properties or {}).items())
    spark.sql(
        f"""CREATE TABLE {table} (id BIGINT, department STRING, product STRING, amount DECIMAL(12,2), sale_date DATE)
            USING iceberg PARTITIONED BY (department) {f"TBLPROPERTIES ({props})" if props else ""}"""
    )


def append(spark, table, start, count, files):
    """One commit; `files` tasks each write one file per department they see."""
    rows(spark, start, count).repartition(files).writeTo(table).option("distribution-mode", "none").append()


def table_state(spark, table, snapshot=None, below=None):
    source = f"{table} VERSION AS OF {snapshot}" if snapshot else table
    where = f"WHERE id < {below}" if below is not None else ""
    row = spark.sql(f"SELECT count(*) AS n, count(DISTINCT id) AS ids, {CHECKSUM} AS sum FROM {source} {where}").first()
    current = spark.sql(f"SELECT snapshot_id FROM {table}.refs WHERE name = 'main'").first()
    files = spark.sql(f"SELECT count(*) FROM {table}.files WHERE content = 0").first()[0]
    return {
        "rows": row.n,
        "distinct_ids": row.ids,
        "checksum": str(row.sum),
        "current_snapshot_id": current.snapshot_id if current else None,
        "data_files": files,
    }


def timed(action, runs):
    timings = []
    for _ in range(runs):
        started = time.monotonic()
        action()
        timings.append(time.monotonic() - started)
    return round(statistics.median(timings), 3), [round(t, 3) for t in timings]


def query_times(spark, table, runs):
    scan, scans = timed(lambda: spark.sql(f"SELECT sum(amount), count(*) FROM {table}").collect(), runs)
    group_sql = f"SELECT department, count(*) AS cnt FROM {table} GROUP BY department"
    group, groups = timed(lambda: spark.sql(group_sql).collect(), runs)
    return {"scan_seconds": scan, "scan_runs": scans, "group_by_seconds": group, "group_by_runs": groups}


def command_create(spark, args):
    started = time.monotonic()
    create_table(spark, args.table, json.loads(args.properties) if args.properties else None)
    for commit in range(args.commits):
        append(spark, args.table, commit * args.rows_per_commit, args.rows_per_commit, args.files_per_commit)
    first = spark.sql(f"SELECT snapshot_id FROM {args.table}.snapshots ORDER BY committed_at LIMIT 1").first()[0]
    return dict(
        table_state(spark, args.table),
        commits=args.commits,
        first_snapshot_id=first,
        seconds=round(time.monotonic() - started, 2),
    )


def command_state(spark, args):
    """The current state, plus the state AS OF --snapshot and of the ids below --below if given."""
    state = table_state(spark, args.table)
    if args.snapshot:
        state["as_of"] = table_state(spark, args.table, snapshot=args.snapshot)
    if args.below is not None:
        state["below"] = table_state(spark, args.table, below=args.below)
    return state


def command_append(spark, args):
    progress = {"batches": 0, "acknowledged_rows": 0, "first_id": args.start_id, "failures": [], "after_stop": 0}
    for batch in range(args.batches):
        if args.stop_file and os.path.exists(args.stop_file):
            if progress["after_stop"] >= args.batches_after_stop:
                break
            progress["after_stop"] += 1
        try:
            append(spark, args.table, args.start_id + batch * args.rows, args.rows, 1)
            progress["batches"] += 1
            progress["acknowledged_rows"] += args.rows
        except Exception as error:  # noqa: BLE001 - a failed commit is not acknowledged; record it
            progress["failures"].append(str(error).splitlines()[0][:300])
        write_json(args.output, progress)
        time.sleep(args.pause)
    return progress


def command_queries(spark, args):
    spark.sql(f"SELECT count(*) FROM {args.table}").collect()  # warm-up: metadata and JIT
    return dict(query_times(spark, args.table, args.runs), **table_state(spark, args.table))


def command_baseline(spark, args):
    """Per Parquet codec and table size: one write of that many rows, then the query medians.
    A discarded write and query first, so that no codec pays for the JVM's warm-up."""
    warm_up = f"{args.table}_warm_up"
    create_table(spark, warm_up)
    rows(spark, 0, 200_000).writeTo(warm_up).append()
    query_times(spark, warm_up, 2)
    spark.sql(f"DROP TABLE {warm_up} PURGE")
    results = []
    for codec in args.codecs.split(","):
        for size in [int(s) for s in args.sizes.split(",")]:
            table = f"{args.table}_{codec}_{size}"
            create_table(spark, table, {"write.parquet.compression-codec": codec})
            started = time.monotonic()
            rows(spark, 0, size).writeTo(table).append()
            write_seconds = time.monotonic() - started
            spark.sql(f"SELECT count(*) FROM {table}").collect()
            data_bytes = spark.sql(f"SELECT sum(file_size_in_bytes) FROM {table}.files").first()[0]
            results.append(
                dict(
                    query_times(spark, table, args.runs),
                    codec=codec,
                    rows=size,
                    data_bytes=data_bytes,
                    write_seconds=round(write_seconds, 2),
                    write_rows_per_second=round(size / write_seconds),
                )
            )
            spark.sql(f"DROP TABLE {table} PURGE")
    return {"results": results}


MERGE_STRIDE = 7919  # a prime: coprime with any table size that is not its multiple
MERGE_MODES = {
    mode: {"format-version": "2", "write.merge.mode": mode, "write.update.mode": mode, "write.delete.mode": mode}
    for mode in ("copy-on-write", "merge-on-read")
}


def merge_batch_source(batch, size, changes):
    """One micro-batch of CDC changes as a query: 80 % updates of ids spread over the whole table
    (a stride coprime with its size, so every batch touches most files), 10 % deletes, 10 % inserts."""
    updates, deletes = changes * 8 // 10, changes // 10
    inserts = changes - updates - deletes
    stride, offset = MERGE_STRIDE, batch * 104_729
    touched = f"pmod({offset} + id * {stride}, {size})"
    return f"""
        SELECT {touched} AS id, 'u' AS op FROM range({updates})
        UNION ALL SELECT pmod({offset} + (id + {updates}) * {stride}, {size}) AS id, 'd' AS op FROM range({deletes})
        UNION ALL SELECT {size} + {batch * changes} + id AS id, 'c' AS op FROM range({inserts})"""


def command_merge_modes(spark, args):
    """Per mode: a compacted table of --rows rows, then --batches MERGEs of --changes changes each."""
    # one source row per target row, or the MERGE fails: the stride must walk every id once
    if math.gcd(MERGE_STRIDE, args.rows) != 1 or args.changes * 9 // 10 >= args.rows:
        raise SystemExit(f"merge-modes needs --rows coprime with {MERGE_STRIDE} and above 90 % of --changes")
    results = []
    for mode, properties in MERGE_MODES.items():
        table = f"{args.table}_{mode.replace('-', '_')}"
        create_table(spark, table, properties)
        rows(spark, 0, args.rows).writeTo(table).append()
        merges = []
        for batch in range(args.batches):
            spark.sql(f"SELECT * FROM ({merge_batch_source(batch, args.rows, args.changes)})").createOrReplaceTempView(
                "merge_changes"
            )
            started = time.monotonic()
            spark.sql(
                f"""MERGE INTO {table} t USING merge_changes s ON t.id = s.id
                    WHEN MATCHED AND s.op = 'd' THEN DELETE
                    WHEN MATCHED THEN UPDATE SET t.amount = t.amount + 1
                    WHEN NOT MATCHED AND s.op = 'c' THEN INSERT (id, department, product, amount, sale_date)
                      VALUES (s.id, 'sales', 'product-new', 1.00, date'2026-01-01')"""
            )
            merges.append(time.monotonic() - started)
        by_content = f"SELECT content, count(*) AS n, sum(file_size_in_bytes) AS b FROM {table}.files GROUP BY content"
        files = {row.content: (row.n, row.b) for row in spark.sql(by_content).collect()}
        merged_bytes = f"SELECT sum(cast(summary['added-files-size'] AS BIGINT)) FROM {table}.snapshots"
        written = spark.sql(f"{merged_bytes} WHERE operation != 'append'").first()[0]
        spark.sql(f"SELECT count(*) FROM {table}").collect()  # warm-up: metadata and JIT
        ordered = sorted(merges)
        results.append(
            dict(
                query_times(spark, table, args.runs),
                mode=mode,
                merge_seconds_p50=round(ordered[len(ordered) // 2], 3),
                merge_seconds_p95=round(ordered[max(0, int(len(ordered) * 0.95) - 1)], 3),
                merge_seconds_max=round(ordered[-1], 3),
                merge_runs=[round(m, 3) for m in merges],
                bytes_written_by_merges=written or 0,
                data_files=files.get(0, (0, 0))[0],
                data_bytes=files.get(0, (0, 0))[1],
                delete_files=sum(files.get(c, (0, 0))[0] for c in (1, 2)),
                delete_bytes=sum(files.get(c, (0, 0))[1] for c in (1, 2)),
                **{k: v for k, v in table_state(spark, table).items() if k in ("rows", "distinct_ids")},
            )
        )
        spark.sql(f"DROP TABLE {table} PURGE")
    return {"rows": args.rows, "batches": args.batches, "changes_per_batch": args.changes, "results": results}


def command_drop(spark, args):
    spark.sql(f"DROP TABLE IF EXISTS {args.table} PURGE")
    return {"dropped": args.table}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["create", "state", "append", "queries", "baseline", "merge-modes", "drop"])
    parser.add_argument("--table", required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--commits", type=int, default=60)
    parser.add_argument("--rows-per-commit", type=int, default=2000)
    parser.add_argument("--files-per-commit", type=int, default=2)
    parser.add_argument("--properties", help="table properties as JSON")
    parser.add_argument("--snapshot", type=int)
    parser.add_argument("--below", type=int)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--rows", type=int, default=500)
    parser.add_argument("--start-id", type=int, default=10_000_000)
    parser.add_argument("--pause", type=float, default=1.0)
    parser.add_argument("--stop-file")
    parser.add_argument("--batches-after-stop", type=int, default=3)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--codecs", default="snappy,zstd")
    parser.add_argument("--changes", type=int, default=1000)
    args = parser.parse_args()
    spark = SparkSession.builder.appName(f"iceberg-workload {args.command}").getOrCreate()
    try:
        write_json(args.output, globals()[f"command_{args.command.replace('-', '_')}"](spark, args))
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
