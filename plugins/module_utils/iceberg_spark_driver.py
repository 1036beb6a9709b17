# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""The maintenance driver of the iceberg_maintenance module, on one of two SQL engines.

As a Spark program: the module writes this file, the planner (iceberg_maintenance.py) and a
request (JSON) into a work directory on the Spark client node and runs `spark-submit
iceberg_spark_driver.py` there, so the work runs as an ordinary application on the cluster with
the node's spark-defaults (master, `lakehouse` catalog, S3 credentials). Or in the module itself,
against the SQL endpoint (a running Spark Thrift server: no application to start), through the
collection's HiveServer2 client. Either way the driver, in one session:

1. checks the input against the live table (it exists; a `where` filter parses and resolves);
2. reads the metadata tables (entries - the live data and delete files -, snapshots, refs,
   manifests, properties) and plans with the planner - the same functions the unit tests cover;
3. in `apply` mode only, calls Iceberg's procedures for the work the plan found, in a safe order
   (properties, rewrite_data_files, rewrite_position_delete_files, rewrite_manifests,
   expire_snapshots, remove_orphan_files), retrying commit conflicts with concurrent writers;
4. reads the metrics again and writes everything as JSON to --output.

`plan` mode only reads (orphan files are listed with the procedure's dry run): the table's
current snapshot is the same afterwards. PySpark is imported inside main(), so the module can
import this file (to ship it) on a host without Spark.
"""

from __future__ import annotations

import argparse
import json
import time
import traceback
from datetime import UTC, datetime

try:
    from ansible_collections.datalake_fb.platform.plugins.module_utils import iceberg_maintenance as planner
except ImportError:  # on the Spark node: the module wrote the planner next to this file
    import iceberg_maintenance as planner

# Exceptions that a retry can cure: another writer committed first.
CONFLICT_MARKERS = ("CommitFailedException", "ValidationException", "CommitStateUnknownException", "conflict")


class InputProblem(Exception):
    """The table or a filter does not fit the request (reported as bad input, nothing ran)."""


def sql_string(value):
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


def timestamp_literal(epoch_ms):
    moment = datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)
    return "TIMESTAMP " + sql_string(moment.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3])


class SparkSql:
    """The engine inside a Spark application: rows as dicts."""

    def __init__(self, spark):
        self.spark = spark

    def rows(self, query):
        return [row.asDict() for row in self.spark.sql(query).collect()]

    def columns(self, query):
        return self.spark.sql(query).columns


class EndpointSql:
    """The engine behind the SQL endpoint: a HiveServer2 session (module_utils/hiveserver2)."""

    def __init__(self, session):
        self.session = session

    def rows(self, query):
        names, rows = self.session.execute(query, max_rows=10_000_000)
        return [dict(zip(names, row, strict=True)) for row in rows]

    def columns(self, query):
        return self.session.execute(f"{query} LIMIT 0")[0]


def first_value(row):
    return next(iter(row.values()))


class Table:
    """One Iceberg table of a catalog, read through an engine's SQL. Metadata reads are kept until
    the table is written (forget()), so metrics and plans share them."""

    def __init__(self, sql, request):
        self.sql = sql
        self.catalog = request["catalog"]
        self.ident = f"{request['namespace']}.{request['table']}"
        self.name = f"{self.catalog}.{self.ident}"
        self._read = {}

    def forget(self):
        self._read.clear()

    def _once(self, key, reader):
        if key not in self._read:
            self._read[key] = reader()
        return self._read[key]

    def rows(self, query):
        return self.sql.rows(query)

    def check_exists(self):
        try:
            self.sql.columns(f"SELECT * FROM {self.name}")
        except Exception:  # noqa: BLE001 - each engine raises its own "not found"
            raise InputProblem(f"table {self.name} does not exist") from None

    def check_filter(self, where):
        try:
            self.rows(f"SELECT 1 FROM {self.name} WHERE {where} LIMIT 0")
        except Exception as error:  # noqa: BLE001 - Spark raises parse and analysis errors of several kinds
            raise InputProblem(f"rewrite_data_files.where {where!r} does not apply to {self.name}: {error}") from None

    def _live_files(self):
        """(data files, delete files) of the current snapshot, linked (planner.link_deletes). The
        entries table, not files: linking needs each file's data sequence number."""
        file = "data_file"
        columns = self.sql.columns(f"SELECT {file}.* FROM {self.name}.entries")
        partition = (
            f"concat({file}.spec_id, ':', to_json({file}.partition))" if "partition" in columns else "'unpartitioned'"
        )
        # a deletion vector (format v3) is a slice of a Puffin file: count its own bytes
        size = f"{file}.file_size_in_bytes"
        if "content_size_in_bytes" in columns:
            size = f"coalesce({file}.content_size_in_bytes, {size})"
        referenced = f"{file}.referenced_data_file" if "referenced_data_file" in columns else "CAST(NULL AS STRING)"
        query = (
            f"SELECT {file}.content AS content, {file}.file_path AS path, {size} AS size, "
            f"{file}.record_count AS records, {partition} AS partition, {referenced} AS referenced_data_file, "
            f"coalesce(sequence_number, 0) AS sequence_number FROM {self.name}.entries WHERE status < 2"
        )
        return planner.link_deletes(self.rows(query))

    def delete_files(self):
        return self._once("files", self._live_files)[1]

    def data_files(self, where=None):
        files = self._once("files", self._live_files)[0]
        if where:
            # Files that hold a matching row (Iceberg prunes by statistics first, then reads).
            matching = {first_value(row) for row in self.rows(f"SELECT DISTINCT _file FROM {self.name} WHERE {where}")}
            files = [f for f in files if f["path"] in matching]
        return files

    def snapshots(self):
        query = f"SELECT snapshot_id, unix_millis(committed_at) AS committed_at_ms FROM {self.name}.snapshots"
        return self._once("snapshots", lambda: self.rows(query))

    def refs(self):
        query = f"SELECT name, snapshot_id FROM {self.name}.refs"
        return self._once("refs", lambda: {row["name"]: row["snapshot_id"] for row in self.rows(query)})

    def referenced_snapshots(self):
        return sorted(set(self.refs().values()))

    def current_snapshot(self):
        return self.refs().get("main")

    def manifests(self):
        query = f"SELECT path, length FROM {self.name}.manifests WHERE content = 0"
        return self._once("manifests", lambda: self.rows(query))

    def properties(self):
        return {row["key"]: row["value"] for row in self.rows(f"SHOW TBLPROPERTIES {self.name}")}

    def metrics(self, small_file_size):
        return dict(
            planner.table_metrics(
                self.data_files(), self.snapshots(), self.manifests(), small_file_size, self.delete_files()
            ),
            current_snapshot_id=self.current_snapshot(),
        )

    def call(self, procedure, **arguments):
        named = ", ".join(f"{key} => {value}" for key, value in arguments.items())
        return self.rows(f"CALL {self.catalog}.system.{procedure}(table => {sql_string(self.ident)}, {named})")


def call_with_retries(table, procedure, arguments, retries, report):
    """Call a procedure; retry commit conflicts with a growing pause. Returns its first output row
    merged into report (which records the attempts and the conflicts seen)."""
    for attempt in range(1, retries + 2):
        report["attempts"] = attempt
        try:
            return dict(report, **table.call(procedure, **arguments)[0])
        except Exception as error:
            text = str(error)
            if attempt > retries or not any(marker in text for marker in CONFLICT_MARKERS):
                raise
            report.setdefault("conflicts", []).append(text.splitlines()[0][:300])
            time.sleep(min(2**attempt, 30))
    return None


def plan(table, request, now_ms):
    """The plan of every enabled action, from the metadata tables (reads only)."""
    actions = request["actions"]
    result = {}
    if "properties" in actions:
        result["properties"] = planner.plan_properties(table.properties(), actions["properties"])
    if "rewrite_data_files" in actions:
        options = actions["rewrite_data_files"]
        result["rewrite_data_files"] = planner.plan_rewrite(table.data_files(options["where"]), options)
    if "rewrite_position_delete_files" in actions:
        applies_deletes = bool(result.get("rewrite_data_files", {}).get("files_with_deletes"))
        result["rewrite_position_delete_files"] = planner.plan_position_deletes(
            table.delete_files(), actions["rewrite_position_delete_files"], applies_deletes
        )
    if "rewrite_manifests" in actions:
        result["rewrite_manifests"] = planner.plan_manifests(table.manifests(), actions["rewrite_manifests"])
    if "expire_snapshots" in actions:
        result["expire_snapshots"] = planner.plan_expire(
            table.snapshots(), table.referenced_snapshots(), now_ms, actions["expire_snapshots"]
        )
    if "remove_orphan_files" in actions:
        options = actions["remove_orphan_files"]
        cutoff_ms = now_ms - options["older_than"] * 1000
        found = table.call("remove_orphan_files", older_than=timestamp_literal(cutoff_ms), dry_run="true")
        result["remove_orphan_files"] = {
            "files": len(found),
            "sample": [first_value(row) for row in found[:20]],
            "cutoff_ms": cutoff_ms,
            "dry_run": options["dry_run"],
        }
    return result


def sql_map(pairs):
    """A Spark SQL map(...) of string keys and values: the procedures' `options` argument."""
    return "map(" + ", ".join(f"{sql_string(k)}, {sql_string(v)}" for k, v in pairs.items()) + ")"


def sql_bool(value):
    return str(bool(value)).lower()


def rewrite_options(options):
    return sql_map(
        {
            "target-file-size-bytes": options["target_file_size"],
            "min-file-size-bytes": options["min_file_size"],
            "max-file-size-bytes": options["max_file_size"],
            "min-input-files": options["min_input_files"],
            "max-file-group-size-bytes": options["max_file_group_size"],
            "partial-progress.enabled": sql_bool(options["partial_progress"]),
            "partial-progress.max-commits": options["max_commits"],
            "max-concurrent-file-group-rewrites": options["max_concurrent_file_group_rewrites"],
            "delete-file-threshold": options["delete_file_threshold"],
            "delete-ratio-threshold": options["delete_ratio_threshold"],
            "remove-dangling-deletes": sql_bool(options["remove_dangling_deletes"]),
        }
    )


def position_delete_options(options):
    return sql_map(
        {
            "rewrite-all": sql_bool(options["rewrite_all"]),
            "min-input-files": options["min_input_files"],
            "target-file-size-bytes": options["target_file_size"],
        }
    )


def apply(table, request, the_plan, retries, now_ms):
    """Run the procedures for the planned work; return what each did."""
    actions, done = request["actions"], {}
    if the_plan.get("properties"):
        assignments = ", ".join(
            f"{sql_string(k)} = {sql_string(v['after'])}" for k, v in the_plan["properties"].items()
        )
        table.rows(f"ALTER TABLE {table.name} SET TBLPROPERTIES ({assignments})")
        done["properties"] = {"set": sorted(the_plan["properties"])}
    if the_plan.get("rewrite_data_files", {}).get("groups"):
        options = actions["rewrite_data_files"]
        arguments = {"strategy": sql_string(options["strategy"]), "options": rewrite_options(options)}
        if options["sort_order"]:
            arguments["sort_order"] = sql_string(options["sort_order"])
        if options["where"]:
            arguments["where"] = sql_string(options["where"])
        done["rewrite_data_files"] = call_with_retries(table, "rewrite_data_files", arguments, retries, {})
    if the_plan.get("rewrite_position_delete_files", {}).get("groups"):
        # planned again after a data rewrite: it applied deletes (now dangling) or removed them
        if "rewrite_data_files" in done:
            table.forget()
        options = actions["rewrite_position_delete_files"]
        again = planner.plan_position_deletes(table.delete_files(), options)
        if again["groups"]:
            report = {"planned_files": again["files"], "dangling": again["dangling"]}
            arguments = {"options": position_delete_options(options)}
            done["rewrite_position_delete_files"] = call_with_retries(
                table, "rewrite_position_delete_files", arguments, retries, report
            )
    if the_plan.get("rewrite_manifests", {}).get("manifests"):
        arguments = {"use_caching": "false"}
        done["rewrite_manifests"] = call_with_retries(table, "rewrite_manifests", arguments, retries, {})
    if "expire_snapshots" in actions:
        # planned again: the rewrites above added snapshots of their own
        table.forget()
        options = actions["expire_snapshots"]
        again = planner.plan_expire(table.snapshots(), table.referenced_snapshots(), now_ms, options)
        if again["snapshots"]:
            report = {"planned_snapshots": again["snapshots"]}
            arguments = {"older_than": timestamp_literal(again["cutoff_ms"]), "retain_last": options["retain_last"]}
            done["expire_snapshots"] = call_with_retries(table, "expire_snapshots", arguments, retries, report)
    orphans = the_plan.get("remove_orphan_files", {})
    if orphans.get("files") and not orphans["dry_run"]:
        removed = table.call("remove_orphan_files", older_than=timestamp_literal(orphans["cutoff_ms"]), dry_run="false")
        done["remove_orphan_files"] = {"removed": len(removed)}
    return done


def run(sql, request, mode, result):
    """The whole maintenance of the request on an engine (SparkSql or EndpointSql), into result."""
    table = Table(sql, request)
    table.check_exists()
    rewrite = request["actions"].get("rewrite_data_files")
    if rewrite and rewrite["where"]:
        table.check_filter(rewrite["where"])
    small = (rewrite or {}).get("min_file_size", int(planner.DEFAULT_TARGET_FILE_SIZE * 0.75))
    now_ms = int(time.time() * 1000)
    started = time.monotonic()
    result["before"] = table.metrics(small)
    result["plan"] = plan(table, request, now_ms)
    result["plan_seconds"] = round(time.monotonic() - started, 2)
    if mode == "apply" and planner.plan_has_work(result["plan"]):
        started = time.monotonic()
        result["actions"] = apply(table, request, result["plan"], request.get("commit_retries", 3), now_ms)
        result["apply_seconds"] = round(time.monotonic() - started, 2)
        table.forget()
        result["after"] = table.metrics(small)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--request", required=True)
    parser.add_argument("--mode", choices=["plan", "apply"], required=True)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    with open(args.request, encoding="utf-8") as handle:
        request = json.load(handle)
    result = {"mode": args.mode, "actions": {}}
    spark = None
    try:
        from pyspark.sql import SparkSession  # noqa: PLC0415 - only on the Spark node

        name = f"iceberg-maintenance {request['catalog']}.{request['namespace']}.{request['table']}"
        spark = SparkSession.builder.appName(name).getOrCreate()
        run(SparkSql(spark), request, args.mode, result)
    except InputProblem as problem:
        result["input_error"] = str(problem)
    except Exception:  # noqa: BLE001 - reported to the module, which fails with it
        result["error"] = traceback.format_exc()[-4000:]
    finally:
        with open(args.output, "w", encoding="utf-8") as handle:
            json.dump(result, handle, default=str)
        if spark is not None:
            spark.stop()


if __name__ == "__main__":
    main()
