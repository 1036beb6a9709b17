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
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

MB = 1024 * 1024
DEFAULT_TARGET_FILE_SIZE = 512 * MB
MIN_TARGET_FILE_SIZE = 1 * MB
DEFAULT_MAX_FILE_GROUP_SIZE = 100 * 1024 * MB
MIN_ORPHAN_AGE_SECONDS = 24 * 3600  # Iceberg refuses younger orphans: they may be in-flight writes

SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": MB, "mb": MB, "g": 1024 * MB, "gb": 1024 * MB}
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
SORT_ORDER = re.compile(
    r"^\s*[A-Za-z_][A-Za-z0-9_.]*(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?"
    r"(\s*,\s*[A-Za-z_][A-Za-z0-9_.]*(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?)*\s*$",
    re.IGNORECASE,
)
ACTIONS = ("properties", "rewrite_data_files", "rewrite_manifests", "expire_snapshots", "remove_orphan_files")


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
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise MaintenanceInputError(f"{option}: {value!r} must be an integer >= {minimum}")
    return value


def _rewrite_request(rewrite):
    target = parse_size(rewrite.get("target_file_size", DEFAULT_TARGET_FILE_SIZE), "target_file_size")
    if target < MIN_TARGET_FILE_SIZE:
        raise MaintenanceInputError(
            f"rewrite_data_files.target_file_size: {target} bytes is below 1 MB; such files would make "
            "the small-file problem worse"
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


def plan_rewrite(files, options):
    """File groups to rewrite, per Iceberg's size-based rewriter.

    files: dicts with path, size (bytes) and partition (a hashable key, e.g. its JSON).
    Returns {groups: [{partition, files, bytes}], files, bytes, partitions}.
    """
    low, high = options["min_file_size"], options["max_file_size"]
    by_partition = {}
    for data_file in files:
        if data_file["size"] < low or data_file["size"] > high:
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
        {"partition": partition, "files": len(group), "bytes": size}
        for partition, group, size in groups
        if (len(group) > 1 and (len(group) >= options["min_input_files"] or size > options["target_file_size"]))
        or size > options["max_file_size"]
    ]
    return {
        "groups": selected,
        "files": sum(g["files"] for g in selected),
        "bytes": sum(g["bytes"] for g in selected),
        "partitions": len({g["partition"] for g in selected}),
    }


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


def table_metrics(files, snapshots, manifests, small_file_size):
    """The figures reported before and after: data files, bytes, average size, small-file ratio."""
    sizes = [f["size"] for f in files]
    small = sum(1 for size in sizes if size < small_file_size)
    return {
        "data_files": len(sizes),
        "total_bytes": sum(sizes),
        "records": sum(f.get("records", 0) for f in files),
        "average_file_bytes": round(sum(sizes) / len(sizes)) if sizes else 0,
        "small_files": small,
        "small_file_ratio": round(small / len(sizes), 4) if sizes else 0.0,
        "snapshots": len(snapshots),
        "manifests": len(manifests),
    }


def plan_has_work(plan):
    """True when any action of the plan would change the table."""
    return bool(
        plan.get("properties")
        or plan.get("rewrite_data_files", {}).get("groups")
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
    """The run as Prometheus text-format samples, for node exporter's textfile collector."""
    label = '{table="' + report["table"] + '"}'
    actions = report.get("actions") or {}
    after = report.get("after") or {}
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
        ("iceberg_table_data_files", "data files after the last run", after.get("data_files")),
        ("iceberg_table_bytes", "data bytes after the last run", after.get("total_bytes")),
        ("iceberg_table_small_file_ratio", "share of files under the rewrite threshold", after.get("small_file_ratio")),
        ("iceberg_table_snapshots", "snapshots after the last run", after.get("snapshots")),
        ("iceberg_table_manifests", "data manifests after the last run", after.get("manifests")),
    ]
    lines = []
    for name, help_text, value in samples:
        if value is None:
            continue
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name}{label} {value}"]
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
