#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: iceberg_maintenance
short_description: Compact, clean up and tune an Apache Iceberg table through Spark
version_added: 1.1.0
description:
  - Maintains one Iceberg table of a Spark catalog with Iceberg's own procedures -
    C(rewrite_data_files) (binpack or sort), C(rewrite_position_delete_files), C(rewrite_manifests),
    C(expire_snapshots), C(remove_orphan_files) - and sets table properties.
  - Runs on a Spark client node as an ordinary Spark application (C(spark-submit) of a driver program
    that ships with the module), so it uses the node's C(spark-defaults.conf) - the standalone master,
    the catalog, the S3 credentials. Or, with O(sql_endpoint), on the SQL endpoint - the same driver runs
    in the module and sends its statements to the running Spark Thrift server, so no application starts
    (seconds instead of the half minute an application takes to start).
  - The work is planned first from the table's metadata tables (C(entries), C(snapshots), C(refs),
    C(manifests)) with the same rules as Iceberg's size-based rewriter; a procedure is called only for
    work the plan found, so a table with nothing to do gets no new snapshot and C(changed=false).
  - Merge-on-read tables (written by MERGE, UPDATE or DELETE) carry position (or equality) delete files.
    The plan links them to the data files they apply to - a data file with at least
    O(rewrite_data_files.delete_file_threshold) of them is rewritten with its deletes applied - and
    compacts the position delete files with O(rewrite_position_delete_files) once there are many, dropping
    the dangling ones (those that apply to no live data file any more).
  - Check mode plans only (orphans are listed with the procedure's dry run); nothing is written and the
    table's current snapshot is unchanged.
  - Bad input (an unknown table, a C(where) that does not parse, a target size under 1 MB, orphans younger
    than 24 hours) fails before any procedure runs. Commit conflicts with concurrent writers are retried.
author: DataLake FB platform engineers
options:
  table:
    description: The table, as C(namespace.table).
    type: str
    required: true
  catalog:
    description: The Spark catalog that holds the table.
    type: str
    default: lakehouse
  properties:
    description:
      - Table properties to enforce (for example C(write.target-file-size-bytes),
        C(write.parquet.compression-codec), C(write.metadata.delete-after-commit.enabled)). Others are left alone.
    type: dict
    default: {}
  rewrite_data_files:
    description: Compact (or sort) data files. Omit to skip.
    type: dict
    suboptions:
      enabled:
        description: Run this action.
        type: bool
        default: true
      strategy:
        description: C(binpack) merges small files; C(sort) also orders rows by O(rewrite_data_files.sort_order).
        type: str
        choices: [binpack, sort]
        default: binpack
      sort_order:
        description: For C(sort), e.g. C(department ASC, id DESC); the table's sort order when omitted.
        type: str
      target_file_size:
        description: Target data file size, bytes or a size such as C(128MB). At least 1 MB.
        type: raw
        default: 512MB
      min_input_files:
        description: A partition's small files are rewritten once there are at least this many.
        type: int
        default: 5
      min_file_size_ratio:
        description: Files smaller than this fraction of the target are candidates.
        type: float
        default: 0.75
      max_file_size_ratio:
        description: Files larger than this multiple of the target are candidates (split).
        type: float
        default: 1.8
      max_file_group_size:
        description: The most bytes rewritten by one file group (one task set).
        type: raw
        default: 100GB
      where:
        description: A Spark SQL predicate on the table's columns; only files with matching rows are rewritten.
        type: str
      partial_progress:
        description: Commit file groups as they finish, so a conflict or failure keeps the work done.
        type: bool
        default: true
      max_commits:
        description: With partial progress, the most commits one run makes.
        type: int
        default: 10
      max_concurrent_file_group_rewrites:
        description: File groups rewritten at once.
        type: int
        default: 2
      delete_file_threshold:
        description:
          - A data file that at least this many delete files apply to is rewritten (its deletes applied), whatever
            its size (Iceberg's C(delete-file-threshold)). At least 1.
        type: int
        default: 5
      delete_ratio_threshold:
        description:
          - A data file whose file-scoped deletes remove at least this share of its rows is rewritten (Iceberg's
            C(delete-ratio-threshold)). Above 0, at most 1.
        type: float
        default: 0.3
      remove_dangling_deletes:
        description:
          - After the rewrite, remove the delete files that apply to no live data file any more, by sequence number
            (Iceberg's C(remove-dangling-deletes); one more commit when it finds some).
        type: bool
        default: true
  rewrite_position_delete_files:
    description:
      - Compact the position delete files of a merge-on-read table and drop the dangling ones, with Iceberg's
        C(rewrite_position_delete_files). Runs after O(rewrite_data_files). Omit to skip.
      - Planned once the table has at least O(rewrite_position_delete_files.min_delete_files) live position delete
        files and a compaction would leave fewer (dangling ones, several for one data file, or a data rewrite that
        applies deletes), so a compacted table is not rewritten again.
    type: dict
    suboptions:
      enabled:
        description: Run this action.
        type: bool
        default: true
      min_delete_files:
        description: The live position delete files the table needs before they are compacted. At least 1.
        type: int
        default: 10
      rewrite_all:
        description:
          - Rewrite every position delete file when the action runs (Iceberg's C(rewrite-all)), so a lone dangling
            file in a partition goes too. With C(false), Iceberg's size rules and
            O(rewrite_position_delete_files.min_input_files) choose the files.
        type: bool
        default: true
      min_input_files:
        description:
          - Without O(rewrite_position_delete_files.rewrite_all), a partition's small delete files are compacted once
            there are this many.
        type: int
        default: 5
      target_file_size:
        description: Target delete file size, bytes or a size such as C(64MB). At least 1 MB.
        type: raw
        default: 64MB
  rewrite_manifests:
    description: Rewrite the data manifests (one per partition range) once there are many.
    type: dict
    suboptions:
      enabled:
        description: Run this action.
        type: bool
        default: true
      min_manifests:
        description: Rewrite only when the table has at least this many data manifests.
        type: int
        default: 10
  expire_snapshots:
    description: Expire old snapshots (and the files only they reference).
    type: dict
    suboptions:
      enabled:
        description: Run this action.
        type: bool
        default: true
      older_than:
        description: Expire snapshots older than this, seconds or a duration such as C(5d), C(36h).
        type: raw
        default: 5d
      retain_last:
        description: Always keep this many newest snapshots, whatever their age.
        type: int
        default: 1
  remove_orphan_files:
    description: Delete files under the table's location that no metadata references.
    type: dict
    suboptions:
      enabled:
        description: Run this action.
        type: bool
        default: true
      older_than:
        description: Only files older than this (at least C(24h), as Iceberg requires), e.g. C(3d).
        type: raw
        default: 3d
      dry_run:
        description: Only report the orphans.
        type: bool
        default: false
  commit_retries:
    description: Retries of a procedure whose commit conflicted with another writer.
    type: int
    default: 3
  sql_endpoint:
    description:
      - Run on the SQL endpoint (a Spark Thrift server with the catalog) instead of starting a Spark application.
        The login must be an admin of the endpoint (procedures, metadata tables and table properties need one).
      - O(spark_submit), O(spark_conf_dir) and O(spark_conf) then do not apply; O(timeout) bounds each statement.
    type: dict
    suboptions:
      host:
        description: The endpoint's host (its certificate must name it).
        type: str
        required: true
      port:
        description: The endpoint's port.
        type: int
        default: 10000
      user:
        description: An admin of the endpoint.
        type: str
        required: true
      password:
        description: Its password.
        type: str
        required: true
      ca_file:
        description: CA certificate that checks the endpoint's certificate.
        type: path
        required: true
  spark_submit:
    description: The C(spark-submit) program on the node.
    type: path
    default: /opt/spark/current/bin/spark-submit
  spark_conf_dir:
    description: Spark's configuration directory (C(spark-defaults.conf) with the catalog).
    type: path
    default: /etc/spark
  spark_conf:
    description: Extra C(--conf) settings for the maintenance application, e.g. C(spark.cores.max).
    type: dict
    default: {}
  timeout:
    description: Seconds the whole Spark application may take; it is stopped after that.
    type: int
    default: 3600
  metrics_dir:
    description:
      - A directory on the node for the run's record, C(<catalog>.<namespace>.<table>.json) (outcome, metrics before
        and after, what each action did, time of the last success). Not written in check mode.
    type: path
  textfile_dir:
    description:
      - node exporter's textfile collector directory, for C(iceberg_maintenance_<table>.prom) (success, last run and
        last success times, files rewritten, table files, small-file ratio, snapshots, manifests, live delete files
        and bytes by content, dangling delete files). Needs O(metrics_dir).
    type: path
attributes:
  check_mode:
    support: full
    description: Plans from the metadata tables and reports what would change; writes nothing.
  diff_mode:
    support: none
requirements:
  - A Spark client node with Iceberg's Spark runtime and the catalog configured (the C(spark) role).
notes:
  - Run it as the Spark user (C(become_user)), so the application's files belong to that user.
"""

EXAMPLES = r"""
- name: Compact and clean up the sales table
  datalake_fb.platform.iceberg_maintenance:
    table: sales.vendas
    properties:
      write.target-file-size-bytes: "134217728"
      write.metadata.delete-after-commit.enabled: "true"
      write.metadata.previous-versions-max: "20"
    rewrite_data_files:
      target_file_size: 128MB
      min_input_files: 5
    rewrite_manifests:
      min_manifests: 10
    expire_snapshots:
      older_than: 5d
      retain_last: 10
    remove_orphan_files:
      older_than: 3d
  become: true
  become_user: spark

- name: Keep a merge-on-read (CDC) table's delete files in check
  datalake_fb.platform.iceberg_maintenance:
    table: cdc.orders
    rewrite_data_files:
      target_file_size: 128MB
      delete_file_threshold: 3
    rewrite_position_delete_files:
      min_delete_files: 10
    expire_snapshots:
      older_than: 2d
      retain_last: 10
  become: true
  become_user: spark

- name: Plan only (check mode) - what would be compacted today
  datalake_fb.platform.iceberg_maintenance:
    table: sales.vendas
    rewrite_data_files:
      target_file_size: 128MB
      where: "sale_date >= date'2026-01-01'"
  check_mode: true
  register: plan
"""

RETURN = r"""
plan:
  description:
    - What each enabled action found to do (groups, files, bytes, snapshots, manifests, orphans).
    - C(rewrite_data_files.files_with_deletes) is the planned data files whose deletes the rewrite applies.
      C(rewrite_position_delete_files) has the table's C(live_files), the C(dangling) ones and the C(removable)
      ones (what a compaction takes out) besides the groups it would rewrite.
  returned: always
  type: dict
  sample:
    rewrite_data_files: {groups: [{partition: "0:{\"department\":\"sales\"}", files: 120, bytes: 1048576}],
                         files: 600, bytes: 5242880, partitions: 5, files_with_deletes: 0}
    rewrite_position_delete_files: {live_files: 100, dangling: 100, removable: 100, files: 100, bytes: 160000,
                                    partitions: 1, files_with_deletes: 0,
                                    groups: [{partition: "unpartitioned", files: 100, bytes: 160000}]}
    expire_snapshots: {snapshots: 48}
    rewrite_manifests: {manifests: 60, current: 60}
    remove_orphan_files: {files: 0, dry_run: false}
actions:
  description: What each procedure reported (empty in check mode, or when there was nothing to do).
  returned: always
  type: dict
  sample:
    rewrite_data_files: {rewritten_data_files_count: 600, added_data_files_count: 5, removed_delete_files_count: 0,
                         attempts: 1}
    rewrite_position_delete_files: {rewritten_delete_files_count: 100, added_delete_files_count: 0,
                                    planned_files: 100, dangling: 100, attempts: 1}
before:
  description:
    - Table metrics before the run. The live delete files and their bytes are counted by content
      (C(position_delete_files), C(position_delete_bytes), C(equality_delete_files), C(equality_delete_bytes));
      C(dangling_delete_files) apply to no live data file, C(data_files_with_deletes) have deletes applying.
  returned: always
  type: dict
  sample: {data_files: 600, total_bytes: 5242880, average_file_bytes: 8738, small_files: 600,
           small_file_ratio: 1.0, snapshots: 61, manifests: 60, records: 100000, current_snapshot_id: 1234,
           position_delete_files: 100, position_delete_bytes: 160000, equality_delete_files: 0,
           equality_delete_bytes: 0, dangling_delete_files: 0, data_files_with_deletes: 100}
after:
  description: Table metrics after the run (the same as before when nothing ran).
  returned: always
  type: dict
duration_seconds:
  description: Wall time of the Spark application, start to stop (with O(sql_endpoint), of the session).
  returned: always
  type: float
"""

import inspect
import json
import os
import shutil
import subprocess
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake_fb.platform.plugins.module_utils import iceberg_maintenance as planner
from ansible_collections.datalake_fb.platform.plugins.module_utils import iceberg_spark_driver as driver
from ansible_collections.datalake_fb.platform.plugins.module_utils.hiveserver2 import (
    HiveServer2,
    HiveServer2Error,
    tls_context,
)
from ansible_collections.datalake_fb.platform.plugins.module_utils.thrift_binary import ThriftError


def run_driver(module, request, mode):
    """Run the driver program with spark-submit; return its result dict and the wall time."""
    params = module.params
    if not os.access(params["spark_submit"], os.X_OK):
        module.fail_json(msg=f"spark_submit {params['spark_submit']} is not an executable program on this host")
    work_dir = tempfile.mkdtemp(prefix="iceberg-maintenance.")
    try:
        for name, source in zip(planner.DRIVER_FILES, (planner, driver), strict=True):
            with open(os.path.join(work_dir, name), "w") as handle:
                handle.write(inspect.getsource(source))
        with open(os.path.join(work_dir, "request.json"), "w") as handle:
            json.dump(request, handle)
        env = dict(os.environ, SPARK_CONF_DIR=params["spark_conf_dir"])
        started = time.monotonic()
        try:
            completed = planner.run_bounded(
                planner.driver_command(params["spark_submit"], params["spark_conf"], work_dir, mode),
                cwd=work_dir,
                env=env,
                timeout=params["timeout"],
            )
        except subprocess.TimeoutExpired:
            module.fail_json(msg=f"the maintenance application did not finish within timeout={params['timeout']} s")
        seconds = round(time.monotonic() - started, 2)
        result_file = os.path.join(work_dir, "result.json")
        if not os.path.exists(result_file):
            module.fail_json(
                msg=f"spark-submit exited with {completed.returncode} before the driver reported",
                stderr=completed.stderr[-4000:],
            )
        with open(result_file) as handle:
            return json.load(handle), seconds
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def run_on_endpoint(module, request, mode):
    """Run the driver here against the SQL endpoint; return its result dict and the session's time."""
    endpoint = module.params["sql_endpoint"]
    result = {"mode": mode, "actions": {}}
    started = time.monotonic()
    try:
        context = tls_context(endpoint["ca_file"])
    except OSError as exc:
        module.fail_json(msg=f"cannot read the CA file {endpoint['ca_file']}: {exc}")
    try:
        with HiveServer2(
            endpoint["host"],
            endpoint["port"],
            endpoint["user"],
            endpoint["password"],
            context,
            timeout=module.params["timeout"],
        ) as session:
            driver.run(driver.EndpointSql(session), request, mode, result)
    except driver.InputProblem as problem:
        result["input_error"] = str(problem)
    except (HiveServer2Error, ThriftError) as exc:
        result["error"] = str(exc)[-4000:]
    return result, round(time.monotonic() - started, 2)


def action_option(**options):
    """The spec of one maintenance action: a dict of its options, plus `enabled`."""
    return {"type": "dict", "options": {"enabled": {"type": "bool", "default": True}, **options}}


def main():
    size_or_int = {"type": "raw"}
    module = AnsibleModule(
        argument_spec={
            "table": {"type": "str", "required": True},
            "catalog": {"type": "str", "default": "lakehouse"},
            "properties": {"type": "dict", "default": {}},
            "rewrite_data_files": action_option(
                strategy={"type": "str", "choices": ["binpack", "sort"], "default": "binpack"},
                sort_order={"type": "str"},
                target_file_size=dict(size_or_int, default="512MB"),
                min_input_files={"type": "int", "default": 5},
                min_file_size_ratio={"type": "float", "default": 0.75},
                max_file_size_ratio={"type": "float", "default": 1.8},
                max_file_group_size=dict(size_or_int, default="100GB"),
                where={"type": "str"},
                partial_progress={"type": "bool", "default": True},
                max_commits={"type": "int", "default": 10},
                max_concurrent_file_group_rewrites={"type": "int", "default": 2},
                delete_file_threshold={"type": "int", "default": 5},
                delete_ratio_threshold={"type": "float", "default": 0.3},
                remove_dangling_deletes={"type": "bool", "default": True},
            ),
            "rewrite_position_delete_files": action_option(
                min_delete_files={"type": "int", "default": 10},
                rewrite_all={"type": "bool", "default": True},
                min_input_files={"type": "int", "default": 5},
                target_file_size=dict(size_or_int, default="64MB"),
            ),
            "rewrite_manifests": action_option(min_manifests={"type": "int", "default": 10}),
            "expire_snapshots": action_option(
                older_than=dict(size_or_int, default="5d"), retain_last={"type": "int", "default": 1}
            ),
            "remove_orphan_files": action_option(
                older_than=dict(size_or_int, default="3d"), dry_run={"type": "bool", "default": False}
            ),
            "commit_retries": {"type": "int", "default": 3},
            "sql_endpoint": {
                "type": "dict",
                "options": {
                    "host": {"type": "str", "required": True},
                    "port": {"type": "int", "default": 10000},
                    "user": {"type": "str", "required": True},
                    "password": {"type": "str", "required": True, "no_log": True},
                    "ca_file": {"type": "path", "required": True},
                },
            },
            "spark_submit": {"type": "path", "default": "/opt/spark/current/bin/spark-submit"},
            "spark_conf_dir": {"type": "path", "default": "/etc/spark"},
            "spark_conf": {"type": "dict", "default": {}},
            "timeout": {"type": "int", "default": 3600},
            "metrics_dir": {"type": "path"},
            "textfile_dir": {"type": "path"},
        },
        required_by={"textfile_dir": "metrics_dir"},
        supports_check_mode=True,
    )
    try:
        request = planner.normalize_request(module.params)
    except planner.MaintenanceInputError as error:
        module.fail_json(msg=str(error))
    if module.params["commit_retries"] < 0 or module.params["timeout"] < 1:
        module.fail_json(msg="commit_retries must be >= 0 and timeout >= 1")
    request["commit_retries"] = module.params["commit_retries"]
    if not request["actions"]:
        module.fail_json(msg=f"nothing to do: enable at least one of {', '.join(planner.ACTIONS)}")

    mode = "plan" if module.check_mode else "apply"
    if module.params["sql_endpoint"]:
        result, seconds = run_on_endpoint(module, request, mode)
    else:
        result, seconds = run_driver(module, request, mode)
    result["duration_seconds"] = seconds
    name = planner.table_label(request)
    failed = result.get("input_error") or result.get("error")
    if module.params["metrics_dir"] and not module.check_mode:
        planner.write_metrics(
            request,
            result,
            not failed,
            now=int(time.time()),
            json_dir=module.params["metrics_dir"],
            textfile_dir=module.params["textfile_dir"],
        )
    if result.get("input_error"):
        module.fail_json(msg=result["input_error"], table=name)
    if result.get("error"):
        module.fail_json(
            msg=f"maintenance of {name} failed",
            error=result["error"],
            plan=result.get("plan", {}),
            actions=result.get("actions", {}),
            before=result.get("before"),
        )
    before = result["before"]
    after = result.get("after") or before
    if module.check_mode:
        changed = planner.plan_has_work(result["plan"])
    else:
        actions = result["actions"]
        changed = (
            after["current_snapshot_id"] != before["current_snapshot_id"]
            or "properties" in actions
            or "expire_snapshots" in actions
            or bool(actions.get("remove_orphan_files", {}).get("removed"))
        )
    module.exit_json(
        changed=changed,
        table=name,
        plan=result["plan"],
        actions=result["actions"],
        before=before,
        after=after,
        duration_seconds=seconds,
        plan_seconds=result.get("plan_seconds"),
        apply_seconds=result.get("apply_seconds"),
    )


if __name__ == "__main__":
    main()
