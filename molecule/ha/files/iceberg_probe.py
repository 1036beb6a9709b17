"""Iceberg commits under failover, run with spark-submit on the probe node (the lakehouse catalog of
/etc/spark: every metastore URI, the local MinIO of the distributed cluster).

  iceberg_probe.py write --phase P --acked FILE --stop-file S [--max-seconds N]
      one INSERT (one Iceberg commit through the metastore) per id until the stop file appears;
      each id is appended to FILE once its commit returned
  iceberg_probe.py count --out FILE
      every (phase, id) in the table, as JSON {phase: [ids]}
  iceberg_probe.py job
      a small job on the standalone cluster (the master URL of spark-defaults.conf): RESULT sum master
"""

import argparse
import json
import os
import time

from pyspark.sql import SparkSession

TABLE = "lakehouse.failover_probe.commits"


def write(spark, args):
    spark.sql("CREATE NAMESPACE IF NOT EXISTS lakehouse.failover_probe")
    spark.sql(f"CREATE TABLE IF NOT EXISTS {TABLE} (phase STRING, id BIGINT) USING iceberg")
    started, ident = time.time(), 0
    with open(args.acked, "w", encoding="utf-8") as acked:
        while time.time() - started < args.max_seconds and not os.path.exists(args.stop_file):
            ident += 1
            try:
                spark.sql(f"INSERT INTO {TABLE} VALUES ('{args.phase}', {ident})")
            except Exception as error:  # noqa: BLE001 - a failed commit is not acknowledged; go on
                print(f"{time.time():.1f} id {ident}: {str(error)[:300]}", flush=True)
                time.sleep(1)
                continue
            acked.write(f"{ident} {time.time():.3f}\n")
            acked.flush()


def count(spark, args):
    found = {}
    for row in spark.sql(f"SELECT phase, id FROM {TABLE}").collect():
        found.setdefault(row.phase, []).append(row.id)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(found, handle)


def job(spark, _args):
    total = spark.range(1, 100001).selectExpr("sum(id) AS s").collect()[0].s
    print("RESULT", total, spark.sparkContext.master, flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["write", "count", "job"])
    parser.add_argument("--phase")
    parser.add_argument("--acked")
    parser.add_argument("--stop-file")
    parser.add_argument("--max-seconds", type=float, default=1800)
    parser.add_argument("--out")
    args = parser.parse_args()
    spark = SparkSession.builder.appName(f"failover-probe-{args.mode}").getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    {"write": write, "count": count, "job": job}[args.mode](spark, args)
    spark.stop()


if __name__ == "__main__":
    main()
