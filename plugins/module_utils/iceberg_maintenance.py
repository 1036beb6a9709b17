# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Iceberg table maintenance: input checks, plans and metrics, in pure Python.

Shared by the iceberg_maintenance module (which checks its input with it before anything runs)
and by the Spark driver program (iceberg_spark_driver.py, which plans from the table's metadata
tables with it, then calls Iceberg's procedures only for work the plan found). It imports nothing
but the standard library, so the module can ship it next to the driver to the Spark node.

The rewrite plan follows Iceberg's size-based file rewriter (binpack and sort): a data file is a
candidate when it is smaller than min_file_size (75 % of the target by default) or larger than
max_file_size (180 %); candidates of one partition form groups of at most max_file_group_size
bytes; a group is rewritten when it has more than one file and either at least min_input_files
files or more bytes than the target file size, or when it holds more than max_file_size bytes.
So the plan is what the procedure will do, and a table with nothing to do gets no new snapshot.

Merge-on-read tables (MERGE, UPDATE, DELETE in format v2) also carry delete files. Which delete
file applies to which data file follows Iceberg's rules (link_deletes): a data file is also a
rewrite candidate when at least delete_file_threshold delete files apply to it, or when its
file-scoped deletes remove at least delete_ratio_threshold of its rows; rewriting it applies its
deletes. Position delete files are compacted (and those applying to no live data file dropped)
by rewrite_position_delete_files once the table has min_delete_files of them and a compaction
would leave fewer.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from bisect import bisect_left, bisect_right
from collections import defaultdict

MB = 1024 * 1024
DEFAULT_TARGET_FILE_SIZE = 512 * MB
MIN_TARGET_FILE_SIZE = 1 * MB
DEFAULT_MAX_FILE_GROUP_SIZE = 100 * 1024 * MB
DEFAULT_DELETE_TARGET_FILE_SIZE = 64 * MB  # Iceberg's write.delete.target-file-size-bytes
MIN_ORPHAN_AGE_SECONDS = 24 * 3600  # Iceberg refuses younger orphans: they may be in-flight writes

SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": MB, "mb": MB, "g": 1024 * MB, "gb": 1024 * MB}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SORT_ORDER = re.compile(
    r"^\s*[A-Za-z_][A-Za-z0-9_.]*(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?"
    r"(\s*,\s*[A-Za-z_][A-Za-z0-9_.]*(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?)*\s*$",
    re.IGNORECASE,
)
# In run order: position deletes after the data rewrite, which leaves the deletes it applied dangling.
ACTIONS = (
    "properties",
    "rewrite_data_files",
    "rewrite_position_delete_files",
    "rewrite_manifests",
    "expire_snapshots",
    "remove_orphan_files",
)
# The `content` of a file in Iceberg's metadata tables.
DATA, POSITION_DELETES, EQUALITY_DELETES = 0, 1, 2
DELETE_CONTENT = {"position": POSITION_DELETES, "equality": EQUALITY_DELETES}


class MaintenanceInputError(ValueError):
    """Bad input, found before anything runs; the message names the option."""


def parse_size(value, option):
    """Bytes from an int or a string such as '128MB', '512m', '1g'."""
    if isinstance(value, bool):
        raise MaintenanceInputError(f"{option}: {value!r} is not a size")
    if isinstance(value, int):
        return value
    match = re.match(r"^\s*(\d+)\s*([A-Za-z]*)\s*$", str(value))
    if not match or match.group(2).lower() not in SIZE_UNITS:
        raise MaintenanceInputError(f"{option}: {value!r} is not a size (bytes, or a number with KB, MB or GB)")
    return int(match.group(1)) * SIZE_UNITS[match.group(2).lower()]


def parse_duration(value, option):
    """Seconds from an int or a string such as '36h', '7d', '90m'."""
    if isinstance(value, bool):
        raise MaintenanceInputError(f"{option}: {value!r} is not a duration")
    if isinstance(value, int):
        return value
    match = re.match(r"^\s*(\d+)\s*([smhdw]?)\s*$", str(value))
    if not match:
        raise MaintenanceInputError(f"{option}: {value!r} is not a duration (seconds, or a number with s, m, h, d, w)")
    return int(match.group(1)) * DURATION_UNITS[match.group(2) or "s"]


def table_identifier(table):
    """('namespace', 'table') from 'namespace.table'; both plain identifiers (they go into SQL)."""
    parts = str(table).split(".")
    if len(parts) != 2 or not all(IDENTIFIER.match(part) for part in parts):
        raise MaintenanceInputError(f"table: {table!r} must be namespace.table with plain identifiers")
    return parts[0], parts[1]


def _positive(value, option, minimum=1):
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # extra vars and role variables may arrive as text
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MaintenanceInputError(f"{option}: {value!r} must be an integer >= {minimum}")
    return value


def _ratio(value, option):
    try:
        ratio = None if isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        ratio = None
    if ratio is None or not 0 < ratio <= 1:
        raise MaintenanceInputError(f"{option}: {value!r} must be a number above 0 and at most 1")
    return ratio


def _target_size(value, option):
    target = parse_size(value, option)
    if target < MIN_TARGET_FILE_SIZE:
        raise MaintenanceInputError(
            f"{option}: {target} bytes is below 1 MB; such files would make the small-file problem worse"
        )
    return target


def _rewrite_request(rewrite):
    target = _target_size(
        rewrite.get("target_file_size", DEFAULT_TARGET_FILE_SIZE), "rewrite_data_files.target_file_size"
    )
    strategy = rewrite.get("strategy", "binpack")
    if strategy not in {"binpack", "sort"}:
        raise MaintenanceInputError(f"rewrite_data_files.strategy: {strategy!r} is not binpack or sort")
    sort_order = rewrite.get("sort_order")
    if sort_order and strategy != "sort":
        raise MaintenanceInputError("rewrite_data_files.sort_order needs strategy: sort")
    if sort_order and not SORT_ORDER.match(sort_order):
        raise MaintenanceInputError(f"rewrite_data_files.sort_order: {sort_order!r} is not 'col [ASC|DESC], ...'")
    low, high = float(rewrite.get("min_file_size_ratio", 0.75)), float(rewrite.get("max_file_size_ratio", 1.8))
    if not 0 < low < 1 < high:
        raise MaintenanceInputError("rewrite_data_files: need 0 < min_file_size_ratio < 1 < max_file_size_ratio")
    return {
        "strategy": strategy,
        "sort_order": sort_order or None,
        "target_file_size": target,
        "min_file_size": int(target * low),
        "max_file_size": int(target * high),
        "min_input_files": _positive(rewrite.get("min_input_files", 5), "rewrite_data_files.min_input_files"),
        "max_file_group_size": parse_size(
            rewrite.get("max_file_group_size", DEFAULT_MAX_FILE_GROUP_SIZE), "max_file_group_size"
        ),
        "where": rewrite.get("where") or None,
        "partial_progress": bool(rewrite.get("partial_progress", True)),
        "max_commits": _positive(rewrite.get("max_commits", 10), "rewrite_data_files.max_commits"),
        "max_concurrent_file_group_rewrites": _positive(
            rewrite.get("max_concurrent_file_group_rewrites", 2), "max_concurrent_file_group_rewrites"
        ),
        "delete_file_threshold": _positive(
            rewrite.get("delete_file_threshold", 5), "rewrite_data_files.delete_file_threshold"
        ),
        "delete_ratio_threshold": _ratio(
            rewrite.get("delete_ratio_threshold", 0.3), "rewrite_data_files.delete_ratio_threshold"
        ),
        "remove_dangling_deletes": bool(rewrite.get("remove_dangling_deletes", True)),
    }


def _position_deletes_request(deletes):
    option = "rewrite_position_delete_files"
    target = _target_size(
        deletes.get("target_file_size", DEFAULT_DELETE_TARGET_FILE_SIZE), f"{option}.target_file_size"
    )
    return {
        "min_delete_files": _positive(deletes.get("min_delete_files", 10), f"{option}.min_delete_files"),
        "rewrite_all": bool(deletes.get("rewrite_all", True)),
        "min_input_files": _positive(deletes.get("min_input_files", 5), f"{option}.min_input_files"),
        "target_file_size": target,
        # Iceberg's default size range and group size: the planner needs them, the procedure gets none
        "min_file_size": int(target * 0.75),
        "max_file_size": int(target * 1.8),
        "max_file_group_size": DEFAULT_MAX_FILE_GROUP_SIZE,
    }


def _orphans_request(orphans):
    older_than = parse_duration(orphans.get("older_than", "3d"), "remove_orphan_files.older_than")
    if older_than < MIN_ORPHAN_AGE_SECONDS:
        raise MaintenanceInputError(
            f"remove_orphan_files.older_than: {older_than} s is under 24 h; younger files may belong to "
            "writes still in flight (Iceberg refuses it too)"
        )
    return {"older_than": older_than, "dry_run": bool(orphans.get("dry_run", False))}


def _properties_request(properties):
    bad = [key for key in properties if not re.match(r"^[A-Za-z0-9_.-]+$", str(key))]
    if bad:
        raise MaintenanceInputError(f"properties: invalid property names {bad}")
    return {str(k): str(v) for k, v in properties.items()}


def _manifests_request(manifests):
    return {"min_manifests": _positive(manifests.get("min_manifests", 10), "rewrite_manifests.min_manifests", 2)}


def _expire_request(expire):
    return {
        "older_than": parse_duration(expire.get("older_than", "5d"), "expire_snapshots.older_than"),
        "retain_last": _positive(expire.get("retain_last", 1), "expire_snapshots.retain_last"),
    }


ACTION_REQUESTS = {
    "properties": _properties_request,
    "rewrite_data_files": _rewrite_request,
    "rewrite_position_delete_files": _position_deletes_request,
    "rewrite_manifests": _manifests_request,
    "expire_snapshots": _expire_request,
    "remove_orphan_files": _orphans_request,
}


def normalize_request(params):
    """Check and normalize the module's options into the request the driver runs.

    Every check happens here, before Spark starts; the returned dict holds plain values
    (bytes, seconds) and only the actions that are enabled, in the order they run.
    """
    namespace, name = table_identifier(params["table"])
    catalog = params.get("catalog") or "lakehouse"
    if not IDENTIFIER.match(catalog):
        raise MaintenanceInputError(f"catalog: {catalog!r} is not a plain identifier")
    request = {"catalog": catalog, "namespace": namespace, "table": name, "actions": {}}
    for action in ACTIONS:
        options = params.get(action)
        wanted = bool(options) if action == "properties" else options is not None and options.get("enabled", True)
        if wanted:
            request["actions"][action] = ACTION_REQUESTS[action](options)
    return request


def plan_properties(current, wanted):
    """{name: {before, after}} for the table properties that differ."""
    return {
        key: {"before": current.get(key), "after": value}
        for key, value in sorted(wanted.items())
        if current.get(key) != value
    }


def link_deletes(live_files):
    """Split a table's live files into data and delete files, linked by Iceberg's rules for which
    delete file applies to which data file of the same partition (spec and value): a file-scoped
    position delete (referenced_data_file set; deletion vectors too) to its one data file, another
    position delete to the data files whose data sequence number is not above its own, an equality
    delete to those whose number is below its own. Iceberg also prunes by column bounds, which the
    metadata rows here do not carry, so for deletes that are not file-scoped a count may be higher.

    live_files: dicts with content, path, size, records, partition, referenced_data_file and
    sequence_number. Returns (data files with `deletes`, the delete files that apply, and
    `deleted_records`, the rows their file-scoped deletes remove; delete files with `applies_to`,
    the live data files they apply to - 0 for a dangling one).
    """
    data_files = [f for f in live_files if f["content"] == DATA]
    data_paths = {f["path"] for f in data_files}
    # sequence numbers per partition, sorted: a bisection counts the older or newer files
    data_sequences = defaultdict(list)
    for data_file in data_files:
        data_sequences[data_file["partition"]].append(data_file["sequence_number"])
    for sequences in data_sequences.values():
        sequences.sort()
    file_scoped = defaultdict(list)
    position_sequences, equality_sequences = defaultdict(list), defaultdict(list)
    deletes = []
    for delete in (f for f in live_files if f["content"] != DATA):
        sequence, partition_data = delete["sequence_number"], data_sequences.get(delete["partition"], [])
        if delete["content"] == EQUALITY_DELETES:
            applies_to = bisect_left(partition_data, sequence)
            equality_sequences[delete["partition"]].append(sequence)
        elif delete.get("referenced_data_file"):
            applies_to = int(delete["referenced_data_file"] in data_paths)
            file_scoped[delete["referenced_data_file"]].append(delete)
        else:
            applies_to = bisect_right(partition_data, sequence)
            position_sequences[delete["partition"]].append(sequence)
        deletes.append(dict(delete, applies_to=applies_to))
    for sequences in (*position_sequences.values(), *equality_sequences.values()):
        sequences.sort()
    linked = []
    for data_file in data_files:
        sequence = data_file["sequence_number"]
        positions = position_sequences.get(data_file["partition"], [])
        equalities = equality_sequences.get(data_file["partition"], [])
        scoped = file_scoped.get(data_file["path"], [])
        applying = (
            len(scoped)
            + len(positions)
            - bisect_left(positions, sequence)
            + len(equalities)
            - bisect_right(equalities, sequence)
        )
        deleted = sum(d["records"] for d in scoped)
        linked.append(dict(data_file, deletes=applying, deleted_records=deleted))
    return linked, deletes


def _deletes_due(data_file, options):
    """Iceberg's delete-file-threshold and delete-ratio-threshold (from file-scoped deletes only):
    the data file is rewritten, its deletes applied, whatever its size."""
    deletes, records = data_file.get("deletes", 0), data_file.get("records") or 0
    if not deletes or "delete_file_threshold" not in options:
        return False
    deleted = min(data_file.get("deleted_records", 0), records)
    return deletes >= options["delete_file_threshold"] or (
        records > 0 and deleted / records >= options["delete_ratio_threshold"]
    )


def plan_rewrite(files, options):
    """File groups to rewrite, per Iceberg's size-based rewriter (data or position delete files).

    files: dicts with path, size (bytes) and partition (a hashable key, e.g. its JSON); data files
    may carry deletes and deleted_records (link_deletes), checked against options' delete
    thresholds when it has them. With options' rewrite_all, every file and group is rewritten.
    Returns {groups: [{partition, files, bytes}], files, bytes, partitions, files_with_deletes}.
    """
    low, high = options["min_file_size"], options["max_file_size"]
    rewrite_all = options.get("rewrite_all", False)
    by_partition = {}
    for data_file in files:
        if rewrite_all or data_file["size"] < low or data_file["size"] > high or _deletes_due(data_file, options):
            by_partition.setdefault(data_file["partition"], []).append(data_file)
    groups = []
    for partition, candidates in sorted(by_partition.items(), key=lambda item: str(item[0])):
        group, group_bytes = [], 0
        for data_file in sorted(candidates, key=lambda f: f["size"]):
            if group and group_bytes + data_file["size"] > options["max_file_group_size"]:
                groups.append((partition, group, group_bytes))
                group, group_bytes = [], 0
            group.append(data_file)
            group_bytes += data_file["size"]
        if group:
            groups.append((partition, group, group_bytes))
    selected = [
        (partition, group, size)
        for partition, group, size in groups
        if rewrite_all
        or (len(group) > 1 and (len(group) >= options["min_input_files"] or size > options["target_file_size"]))
        or size > options["max_file_size"]
        or any(_deletes_due(f, options) for f in group)
    ]
    return {
        "groups": [{"partition": partition, "files": len(group), "bytes": size} for partition, group, size in selected],
        "files": sum(len(group) for _, group, _ in selected),
        "bytes": sum(size for _, _, size in selected),
        "partitions": len({partition for partition, _, _ in selected}),
        # rewriting these applies their deletes
        "files_with_deletes": sum(1 for _, group, _ in selected for f in group if f.get("deletes")),
    }


def plan_position_deletes(delete_files, options, data_rewrite_applies_deletes=False):
    """What rewrite_position_delete_files does: it compacts position delete files and drops the
    dangling ones (applying to no live data file). Planned once the table has min_delete_files of
    them and a compaction would leave fewer - there are dangling ones, or several for one data file
    (or partition), or the data rewrite planned first applies deletes and so leaves them dangling -
    so a compacted table is not rewritten again on every run.

    delete_files: from link_deletes. Returns plan_rewrite's figures with live_files, dangling and
    removable (the files a compaction takes out, as far as the metadata shows).
    """
    position = [d for d in delete_files if d["content"] == POSITION_DELETES]
    applying = [d for d in position if d["applies_to"]]
    # a compaction writes about one file per data file for file-scoped deletes, one per partition for others
    outputs = {d.get("referenced_data_file") or ("partition", d["partition"]) for d in applying}
    figures = {
        "live_files": len(position),
        "dangling": len(position) - len(applying),
        "removable": len(position) - len(outputs),
    }
    due = len(position) >= options["min_delete_files"] and (figures["removable"] or data_rewrite_applies_deletes)
    return dict(plan_rewrite(position if due else [], options), **figures)


def plan_expire(snapshots, referenced, now_ms, options):
    """Snapshot ids that expire_snapshots(older_than, retain_last) removes.

    snapshots: dicts with snapshot_id and committed_at_ms; referenced: ids that a branch or tag
    points at (never expired). The newest retain_last snapshots are kept whatever their age.
    """
    cutoff_ms = now_ms - options["older_than"] * 1000
    newest_first = sorted(snapshots, key=lambda s: s["committed_at_ms"], reverse=True)
    kept = {s["snapshot_id"] for s in newest_first[: options["retain_last"]]} | set(referenced)
    expired = [
        s["snapshot_id"] for s in newest_first if s["snapshot_id"] not in kept and s["committed_at_ms"] < cutoff_ms
    ]
    return {"snapshots": len(expired), "snapshot_ids": expired, "cutoff_ms": cutoff_ms}


def plan_manifests(manifests, options):
    """Rewrite the data manifests when there are at least min_manifests of them."""
    count = len(manifests)
    return {"manifests": count if count >= options["min_manifests"] else 0, "current": count}


def table_metrics(files, snapshots, manifests, small_file_size, delete_files=()):
    """The figures reported before and after: data files, bytes, average size, small-file ratio;
    live delete files and bytes by content, dangling ones, data files that deletes apply to."""
    sizes = [f["size"] for f in files]
    small = sum(1 for size in sizes if size < small_file_size)
    deletes = {}
    for name, content in DELETE_CONTENT.items():
        delete_sizes = [d["size"] for d in delete_files if d["content"] == content]
        deletes[f"{name}_delete_files"], deletes[f"{name}_delete_bytes"] = len(delete_sizes), sum(delete_sizes)
    return {
        "data_files": len(sizes),
        "total_bytes": sum(sizes),
        "records": sum(f.get("records", 0) for f in files),
        "average_file_bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
        "small_files": small,
        "small_file_ratio": round(small / len(sizes), 4) if sizes else 0.0,
        "snapshots": len(snapshots),
        "manifests": len(manifests),
        **deletes,
        "dangling_delete_files": sum(1 for d in delete_files if d.get("applies_to") == 0),
        "data_files_with_deletes": sum(1 for f in files if f.get("deletes")),
    }


def plan_has_work(plan):
    """True when any action of the plan would change the table."""
    return bool(
        plan.get("properties")
        or plan.get("rewrite_data_files", {}).get("groups")
        or plan.get("rewrite_position_delete_files", {}).get("groups")
        or plan.get("rewrite_manifests", {}).get("manifests")
        or plan.get("expire_snapshots", {}).get("snapshots")
        or (plan.get("remove_orphan_files", {}).get("files") and not plan["remove_orphan_files"].get("dry_run"))
    )


# ---- running the driver and reporting (shared by the module and the node's scheduled runner) ----

DRIVER_FILES = ("iceberg_maintenance.py", "iceberg_spark_driver.py")


def driver_command(spark_submit, spark_conf, work_dir, mode):
    """spark-submit argv for the driver in work_dir (request.json in, result.json out).

    The driver imports the planner from its own directory, the first entry of its sys.path.
    """
    command = [spark_submit, "--conf", "spark.sql.session.timeZone=UTC"]
    for key, value in sorted((spark_conf or {}).items()):
        command += ["--conf", f"{key}={value}"]
    return [
        *command,
        f"{work_dir}/iceberg_spark_driver.py",
        "--request",
        f"{work_dir}/request.json",
        "--mode",
        mode,
        "--output",
        f"{work_dir}/result.json",
    ]


def run_bounded(command, cwd, env, timeout):
    """Run command in a session of its own; past timeout, stop the whole group (spark-submit's JVM
    and the Python driver it starts), so the limit really ends the application.
    Returns the CompletedProcess; raises subprocess.TimeoutExpired after stopping the group."""
    process = subprocess.Popen(  # noqa: S603 - argv list from checked options, no shell
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        for sig, grace in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
            try:
                os.killpg(process.pid, sig)
                process.communicate(timeout=grace)
                break
            except (ProcessLookupError, subprocess.TimeoutExpired):
                continue
        raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def table_label(request):
    return f"{request['catalog']}.{request['namespace']}.{request['table']}"


def metrics_report(request, result, ok, now, previous=None):
    """The JSON record of one run: the outcome, figures before/after and what each action did.
    previous (the last record) carries the time of the last success over a failed run."""
    after = result.get("after") or result.get("before") or {}
    return {
        "table": table_label(request),
        "ok": ok,
        "finished_at": now,
        "last_success_at": now if ok else (previous or {}).get("last_success_at"),
        "duration_seconds": result.get("duration_seconds"),
        "before": result.get("before"),
        "after": after,
        "plan": result.get("plan"),
        "actions": result.get("actions", {}),
        "error": result.get("input_error") or (result.get("error") or "")[-1000:] or None,
    }


def prometheus_text(report):
    """The run as Prometheus text-format samples, for node exporter's textfile collector. A value
    is a number, or {content: number} for one sample per kind of delete file."""
    table = report["table"]
    actions = report.get("actions") or {}
    after = report.get("after") or {}

    def by_content(figure):
        return {name: after.get(f"{name}_{figure}") for name in DELETE_CONTENT}

    samples = [
        ("iceberg_maintenance_success", "1 if the last run succeeded", int(report["ok"])),
        ("iceberg_maintenance_last_run_timestamp_seconds", "end of the last run", report["finished_at"]),
        ("iceberg_maintenance_last_success_timestamp_seconds", "end of the last good run", report["last_success_at"]),
        ("iceberg_maintenance_duration_seconds", "wall time of the last run", report.get("duration_seconds")),
        (
            "iceberg_maintenance_rewritten_files",
            "data files rewritten by the last run",
            actions.get("rewrite_data_files", {}).get("rewritten_data_files_count", 0),
        ),
        (
            "iceberg_maintenance_expired_snapshots",
            "snapshots expired by the last run",
            actions.get("expire_snapshots", {}).get("planned_snapshots", 0),
        ),
        (
            "iceberg_maintenance_orphan_files_removed",
            "orphan files removed by the last run",
            actions.get("remove_orphan_files", {}).get("removed", 0),
        ),
        (
            "iceberg_maintenance_rewritten_delete_files",
            "position delete files compacted or dropped by the last run",
            actions.get("rewrite_position_delete_files", {}).get("rewritten_delete_files_count", 0),
        ),
        (
            "iceberg_maintenance_dangling_deletes_removed",
            "dangling delete files removed by the last run's data rewrite",
            actions.get("rewrite_data_files", {}).get("removed_delete_files_count", 0),
        ),
        ("iceberg_table_data_files", "data files after the last run", after.get("data_files")),
        ("iceberg_table_bytes", "data bytes after the last run", after.get("total_bytes")),
        ("iceberg_table_small_file_ratio", "share of files under the rewrite threshold", after.get("small_file_ratio")),
        ("iceberg_table_snapshots", "snapshots after the last run", after.get("snapshots")),
        ("iceberg_table_manifests", "data manifests after the last run", after.get("manifests")),
        ("iceberg_table_delete_files", "live delete files after the last run", by_content("delete_files")),
        ("iceberg_table_delete_file_bytes", "live delete file bytes after the last run", by_content("delete_bytes")),
        (
            "iceberg_table_dangling_delete_files",
            "live delete files that apply to no data file, after the last run",
            after.get("dangling_delete_files"),
        ),
        (
            "iceberg_table_data_files_with_deletes",
            "data files that delete files apply to, after the last run",
            after.get("data_files_with_deletes"),
        ),
    ]
    lines = []
    for name, help_text, value in samples:
        per_content = value if isinstance(value, dict) else {None: value}
        series = [
            (f'{{table="{table}"' + (f',content="{content}"' if content else "") + "}", number)
            for content, number in per_content.items()
            if number is not None
        ]
        if series:
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge"]
            lines += [f"{name}{labels} {number}" for labels, number in series]
    return "\n".join(lines) + "\n"


def write_atomically(path, text):
    """Replace path with text so that a reader (node exporter) never sees half a file."""
    temporary = f"{path}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.chmod(temporary, 0o644)
    os.replace(temporary, path)


def write_metrics(request, result, ok, *, now, json_dir, textfile_dir=None):
    """Write <json_dir>/<table>.json and <textfile_dir>/iceberg_maintenance_<table>.prom."""
    name = table_label(request)
    json_path = f"{json_dir}/{name}.json"
    try:
        with open(json_path, encoding="utf-8") as handle:
            previous = json.load(handle)
    except (OSError, ValueError):
        previous = None
    report = metrics_report(request, result, ok, now, previous)
    write_atomically(json_path, json.dumps(report, indent=2, default=str) + "\n")
    if textfile_dir:
        write_atomically(f"{textfile_dir}/iceberg_maintenance_{name.replace('.', '_')}.prom", prometheus_text(report))
    return report
