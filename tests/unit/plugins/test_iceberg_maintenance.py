"""iceberg_maintenance: input checks, the plans (Iceberg's size-based rewriter rules, snapshot
expiry, manifests, delete files of merge-on-read tables), the driver's plan/apply against a fake
table and a fake engine (the SQL it issues), the metrics and textfile, and the module's modes and
failures with spark-submit replaced by a stand-in that answers like the driver."""

import json
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

from ansible_collections.datalake_fb.platform.plugins.module_utils import iceberg_maintenance as planner
from ansible_collections.datalake_fb.platform.plugins.module_utils import iceberg_spark_driver as driver
from ansible_collections.datalake_fb.platform.plugins.modules import iceberg_maintenance

MB = planner.MB
REWRITE = planner.normalize_request(
    {"table": "s.t", "rewrite_data_files": {"target_file_size": "128MB", "min_input_files": 5}}
)["actions"]["rewrite_data_files"]


def files(count, size, partition="p0"):
    return [
        {"path": f"{partition}/{i}.parquet", "size": size, "partition": partition, "records": 10} for i in range(count)
    ]


def live(content, path, size=MB, records=10, partition="p0", sequence=1, referenced=None):
    """One live file as the driver reads it from the entries table (0 data, 1 position, 2 equality deletes)."""
    return {"content": content, "path": path, "size": size, "records": records, "partition": partition,
            "referenced_data_file": referenced, "sequence_number": sequence}  # fmt: skip


# ---- input -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [(1024, 1024), ("128MB", 128 * MB), ("512m", 512 * MB), ("1g", 1024 * MB), ("10 kb", 10240)]
)
def test_sizes_parse(value, expected):
    assert planner.parse_size(value, "x") == expected


@pytest.mark.parametrize(("value", "expected"), [(90, 90), ("36h", 129600), ("3d", 259200), ("1w", 604800)])
def test_durations_parse(value, expected):
    assert planner.parse_duration(value, "x") == expected


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"table": "justatable"}, "namespace.table"),
        ({"table": "a.b; DROP TABLE x"}, "plain identifiers"),
        ({"table": "s.t", "catalog": "lake house"}, "catalog"),
        ({"table": "s.t", "rewrite_data_files": {"target_file_size": "512KB"}}, "below 1 MB"),
        ({"table": "s.t", "rewrite_data_files": {"target_file_size": "lots"}}, "is not a size"),
        ({"table": "s.t", "rewrite_data_files": {"target_file_size": True}}, "is not a size"),
        ({"table": "s.t", "rewrite_data_files": {"min_input_files": 0}}, "min_input_files"),
        ({"table": "s.t", "rewrite_data_files": {"sort_order": "id"}}, "needs strategy: sort"),
        ({"table": "s.t", "rewrite_data_files": {"strategy": "sort", "sort_order": "id; x"}}, "sort_order"),
        ({"table": "s.t", "rewrite_data_files": {"min_file_size_ratio": 1.5}}, "min_file_size_ratio"),
        ({"table": "s.t", "remove_orphan_files": {"older_than": "23h"}}, "under 24 h"),
        ({"table": "s.t", "remove_orphan_files": {"older_than": "soon"}}, "not a duration"),
        ({"table": "s.t", "expire_snapshots": {"retain_last": 0}}, "retain_last"),
        ({"table": "s.t", "rewrite_manifests": {"min_manifests": 1}}, "min_manifests"),
        ({"table": "s.t", "properties": {"bad key'": "x"}}, "invalid property names"),
        (
            {"table": "s.t", "rewrite_data_files": {"delete_file_threshold": 0}},
            r"rewrite_data_files\.delete_file_threshold: 0 must be an integer >= 1",
        ),
        (
            {"table": "s.t", "rewrite_data_files": {"delete_file_threshold": "many"}},
            r"rewrite_data_files\.delete_file_threshold: 'many' must be an integer >= 1",
        ),
        (
            {"table": "s.t", "rewrite_data_files": {"delete_file_threshold": True}},
            "delete_file_threshold: True must be an integer",
        ),
        (
            {"table": "s.t", "rewrite_data_files": {"delete_ratio_threshold": 0}},
            r"delete_ratio_threshold: 0 must be a number above 0 and at most 1",
        ),
        ({"table": "s.t", "rewrite_data_files": {"delete_ratio_threshold": 1.5}}, "at most 1"),
        ({"table": "s.t", "rewrite_data_files": {"delete_ratio_threshold": "half"}}, "'half' must be a number"),
        (
            {"table": "s.t", "rewrite_position_delete_files": {"min_delete_files": 0}},
            r"rewrite_position_delete_files\.min_delete_files: 0 must be an integer >= 1",
        ),
        (
            {"table": "s.t", "rewrite_position_delete_files": {"min_delete_files": -3}},
            "min_delete_files: -3 must be an integer >= 1",
        ),
        ({"table": "s.t", "rewrite_position_delete_files": {"min_input_files": 0}}, "min_input_files"),
        (
            {"table": "s.t", "rewrite_position_delete_files": {"target_file_size": "100KB"}},
            r"rewrite_position_delete_files\.target_file_size: 102400 bytes is below 1 MB",
        ),
    ],
)
def test_bad_input_is_refused_with_the_option_named(params, message):
    with pytest.raises(planner.MaintenanceInputError, match=message):
        planner.normalize_request(params)


def test_request_keeps_only_enabled_actions_in_run_order():
    request = planner.normalize_request(
        {
            "table": "sales.vendas",
            "remove_orphan_files": {"older_than": "3d"},
            "expire_snapshots": {"older_than": "1d", "retain_last": 2},
            "rewrite_manifests": {"enabled": False},
            "rewrite_data_files": {"target_file_size": 134217728, "strategy": "sort", "sort_order": "id DESC"},
            "properties": {"write.parquet.compression-codec": "zstd", "format-version": 2},
        }
    )
    assert (request["namespace"], request["table"], request["catalog"]) == ("sales", "vendas", "lakehouse")
    assert list(request["actions"]) == ["properties", "rewrite_data_files", "expire_snapshots", "remove_orphan_files"]
    assert request["actions"]["properties"]["format-version"] == "2"
    rewrite = request["actions"]["rewrite_data_files"]
    assert (rewrite["min_file_size"], rewrite["max_file_size"]) == (int(128 * MB * 0.75), int(128 * MB * 1.8))
    assert request["actions"]["expire_snapshots"] == {"older_than": 86400, "retain_last": 2}


# ---- plans -------------------------------------------------------------------------------------


def test_many_small_files_of_a_partition_form_one_group():
    plan = planner.plan_rewrite(files(600, MB), REWRITE)
    assert plan == {"groups": [{"partition": "p0", "files": 600, "bytes": 600 * MB}], "files": 600, "bytes": 600 * MB,
                    "partitions": 1, "files_with_deletes": 0}  # fmt: skip


def test_well_sized_files_and_lonely_small_files_are_left_alone():
    well_sized = files(10, 128 * MB)
    few_small = files(3, MB, partition="p1")  # under min_input_files and under the target in total
    one_small = files(1, MB, partition="p2")
    plan = planner.plan_rewrite(well_sized + few_small + one_small, REWRITE)
    assert plan["groups"] == [] and plan["files"] == 0


def test_few_small_files_with_enough_content_are_merged():
    plan = planner.plan_rewrite(files(2, 90 * MB), REWRITE)  # 2 < min_input_files but 180 MB > target
    assert plan["files"] == 2


def test_a_file_far_larger_than_the_target_is_split():
    plan = planner.plan_rewrite(files(1, 400 * MB), REWRITE)
    assert plan["files"] == 1 and plan["groups"][0]["bytes"] == 400 * MB


def test_groups_are_split_by_partition_and_by_max_group_size():
    options = dict(REWRITE, max_file_group_size=10 * MB)
    plan = planner.plan_rewrite(files(30, MB, "a") + files(6, MB, "b"), options)
    assert [(g["partition"], g["files"]) for g in plan["groups"]] == [("a", 10), ("a", 10), ("a", 10), ("b", 6)]
    assert plan["partitions"] == 2


def test_expiry_keeps_the_newest_and_referenced_snapshots():
    now = 10_000_000
    snapshots = [{"snapshot_id": i, "committed_at_ms": now - (10 - i) * 3_600_000} for i in range(10)]
    plan = planner.plan_expire(
        snapshots, referenced=[2], now_ms=now, options={"older_than": 3 * 3600, "retain_last": 1}
    )
    # older than 3 h: ids 0..6; id 2 is tagged; the newest (9) is kept anyway
    assert sorted(plan["snapshot_ids"]) == [0, 1, 3, 4, 5, 6]
    assert plan["snapshots"] == 6


def test_expiry_never_takes_the_last_snapshots_even_if_old():
    snapshots = [{"snapshot_id": i, "committed_at_ms": i} for i in range(3)]
    plan = planner.plan_expire(snapshots, [2], now_ms=10**12, options={"older_than": 1, "retain_last": 2})
    assert plan["snapshot_ids"] == [0]


def test_manifests_are_rewritten_from_the_threshold_on():
    assert planner.plan_manifests([{}] * 9, {"min_manifests": 10})["manifests"] == 0
    assert planner.plan_manifests([{}] * 10, {"min_manifests": 10})["manifests"] == 10


def test_metrics_and_work_detection():
    metrics = planner.table_metrics(files(3, MB) + files(1, 200 * MB), [{}] * 4, [{}] * 2, small_file_size=96 * MB)
    assert metrics["data_files"] == 4 and metrics["small_files"] == 3 and metrics["small_file_ratio"] == 0.75
    assert metrics["records"] == 40 and metrics["snapshots"] == 4 and metrics["manifests"] == 2
    assert planner.table_metrics([], [], [], 1)["average_file_bytes"] == 0
    assert not planner.plan_has_work({"rewrite_data_files": {"groups": []}, "expire_snapshots": {"snapshots": 0}})
    assert not planner.plan_has_work({"remove_orphan_files": {"files": 3, "dry_run": True}})
    assert planner.plan_has_work({"remove_orphan_files": {"files": 3, "dry_run": False}})
    assert planner.plan_has_work({"properties": {"a": {"before": None, "after": "1"}}})


def test_property_plan_lists_only_differences():
    plan = planner.plan_properties({"a": "1", "b": "2"}, {"a": "1", "b": "3", "c": "4"})
    assert plan == {"b": {"before": "2", "after": "3"}, "c": {"before": None, "after": "4"}}


# ---- the driver, against a fake table --------------------------------------------------------


class Row(dict):
    def asDict(self):
        return dict(self)

    def __getitem__(self, key):
        return list(self.values())[key] if isinstance(key, int) else dict.__getitem__(self, key)


class FakeTable:
    catalog, ident, name = "lakehouse", "s.t", "lakehouse.s.t"

    def __init__(self, data_files, snapshots, conflicts=0, delete_files=()):
        self._files, self._snapshots, self.conflicts = data_files, snapshots, conflicts
        self._deletes = list(delete_files)
        self.calls, self.sql = [], []

    def data_files(self, where=None):
        return self._files

    def delete_files(self):
        return self._deletes

    def forget(self):
        self.calls.append(("forget", {}))

    def snapshots(self):
        return self._snapshots

    def referenced_snapshots(self):
        return [self._snapshots[-1]["snapshot_id"]]

    def manifests(self):
        return [{"path": "m", "length": 1}] * 12

    def properties(self):
        return {"write.parquet.compression-codec": "zstd"}

    def rows(self, query):
        self.sql.append(query)
        return []

    def call(self, procedure, **arguments):
        self.calls.append((procedure, arguments))
        if procedure == "rewrite_data_files" and self.conflicts:
            self.conflicts -= 1
            raise RuntimeError("org.apache.iceberg.exceptions.CommitFailedException: conflict with a writer")
        if procedure == "remove_orphan_files":
            return [Row(orphan_file_location="s3a://warehouse/s/t/data/orphan.parquet")]
        return [Row(rewritten_data_files_count=len(self._files), added_data_files_count=1)]


def request(**actions):
    return planner.normalize_request(dict({"table": "s.t"}, **actions))


def test_driver_plans_without_calling_a_writing_procedure(monkeypatch):
    table = FakeTable(files(50, MB), [{"snapshot_id": i, "committed_at_ms": i} for i in range(5)])
    req = request(
        rewrite_data_files={"target_file_size": "128MB"},
        rewrite_manifests={},
        expire_snapshots={"older_than": 1},
        remove_orphan_files={"dry_run": False},
        properties={"write.parquet.compression-codec": "zstd"},
    )
    plan = driver.plan(table, req, now_ms=10**12)
    assert plan["rewrite_data_files"]["files"] == 50
    assert plan["rewrite_manifests"]["manifests"] == 12
    assert plan["expire_snapshots"]["snapshots"] == 4
    assert plan["remove_orphan_files"]["files"] == 1
    assert plan["properties"] == {}
    # the only procedure called while planning is the orphan listing, as a dry run
    assert [(name, args["dry_run"]) for name, args in table.calls] == [("remove_orphan_files", "true")]
    assert table.sql == []


def test_driver_applies_planned_work_and_retries_a_conflicting_commit(monkeypatch):
    monkeypatch.setattr(driver.time, "sleep", lambda _: None)
    table = FakeTable(files(50, MB), [{"snapshot_id": i, "committed_at_ms": i} for i in range(5)], conflicts=1)
    req = request(
        rewrite_data_files={"target_file_size": "128MB", "where": "department = 'sales'"},
        expire_snapshots={"older_than": 1},
        properties={"write.target-file-size-bytes": 134217728},
    )
    plan = driver.plan(table, req, now_ms=10**12)
    done = driver.apply(table, req, plan, retries=2, now_ms=10**12)
    assert (
        done["rewrite_data_files"]["attempts"] == 2
        and "CommitFailedException" in done["rewrite_data_files"]["conflicts"][0]
    )
    assert done["rewrite_data_files"]["rewritten_data_files_count"] == 50
    assert done["expire_snapshots"]["planned_snapshots"] == 4
    assert done["properties"] == {"set": ["write.target-file-size-bytes"]}
    assert table.sql == ["ALTER TABLE lakehouse.s.t SET TBLPROPERTIES ('write.target-file-size-bytes' = '134217728')"]
    rewrite_args = next(args for name, args in table.calls if name == "rewrite_data_files")
    assert rewrite_args["where"] == "'department = \\'sales\\''" and "'min-input-files', '5'" in rewrite_args["options"]


def test_driver_gives_up_after_the_retries_and_on_other_errors(monkeypatch):
    monkeypatch.setattr(driver.time, "sleep", lambda _: None)
    table = FakeTable(files(50, MB), [], conflicts=5)
    req = request(rewrite_data_files={"target_file_size": "128MB"})
    with pytest.raises(RuntimeError, match="CommitFailedException"):
        driver.apply(table, req, driver.plan(table, req, 0), retries=2, now_ms=0)
    assert [name for name, _ in table.calls] == ["rewrite_data_files"] * 3

    def broken(*_args, **_kwargs):
        raise RuntimeError("S3 is down")

    table = FakeTable(files(50, MB), [])
    table.call = broken
    with pytest.raises(RuntimeError, match="S3 is down"):
        driver.call_with_retries(table, "rewrite_data_files", {}, 3, {})


def test_driver_with_nothing_to_do_calls_nothing():
    table = FakeTable(files(4, 128 * MB), [{"snapshot_id": 1, "committed_at_ms": 1}])
    req = request(rewrite_data_files={"target_file_size": "128MB"}, expire_snapshots={"older_than": 1})
    plan = driver.plan(table, req, now_ms=10**12)
    assert not planner.plan_has_work(plan)
    assert driver.apply(table, req, plan, retries=3, now_ms=10**12) == {}
    assert [name for name, _ in table.calls if name != "forget"] == [] and table.sql == []


class FakeEngine:
    """Answers the driver's metadata queries for a table with 3 small files, as an engine
    (SparkSql, EndpointSql) does: rows as dicts; counts the queries."""

    def __init__(self):
        self.queries = []

    def columns(self, query):
        if query.startswith("SELECT data_file.* FROM lakehouse.s.t.entries"):
            return ["content", "file_path", "partition", "referenced_data_file"]
        if not query.startswith("SELECT * FROM lakehouse.s.t"):
            raise RuntimeError(f"TABLE_OR_VIEW_NOT_FOUND: {query}")
        return ["id", "department"]

    def rows(self, query):
        self.queries.append(query)
        if ".entries" in query:
            return [live(0, f"f{i}", records=5, partition="p") for i in range(3)]
        if ".snapshots" in query:
            return [{"snapshot_id": 7, "committed_at_ms": 1}]
        if ".refs" in query:
            return [{"name": "main", "snapshot_id": 7}]
        if ".manifests" in query:
            return [{"path": "m1", "length": 10}]
        return []


def test_driver_reads_each_metadata_table_once_per_state():
    engine = FakeEngine()
    result = {}
    req = request(rewrite_data_files={"target_file_size": "1MB", "min_file_size_ratio": 0.5}, rewrite_manifests={})
    driver.run(engine, req, "plan", result)
    assert result["before"]["data_files"] == 3 and result["before"]["current_snapshot_id"] == 7
    assert result["plan"]["rewrite_data_files"]["files"] == 0  # 1 MB files are the target size
    for table in ("entries", "snapshots", "refs", "manifests"):
        assert sum(f"lakehouse.s.t.{table}" in q for q in engine.queries) == 1, (table, engine.queries)


def test_driver_reports_an_unknown_table_as_bad_input():
    with pytest.raises(driver.InputProblem, match="does not exist"):
        driver.run(FakeEngine(), planner.normalize_request({"table": "s.other", "rewrite_data_files": {}}), "plan", {})


def test_the_engines_give_rows_as_dicts_and_column_names():
    class Frame:
        columns = ("name", "snapshot_id")

        def collect(self):
            return [Row(name="main", snapshot_id=7)]

    spark = type("Spark", (), {"sql": lambda self, query: Frame()})()
    assert driver.SparkSql(spark).rows("SELECT 1") == [{"name": "main", "snapshot_id": 7}]
    assert list(driver.SparkSql(spark).columns("SELECT 1")) == ["name", "snapshot_id"]

    class Session:
        def __init__(self):
            self.statements = []

        def execute(self, statement, max_rows=1000):
            self.statements.append(statement)
            return ["name", "snapshot_id"], [["main", 7]]

    session = Session()
    endpoint = driver.EndpointSql(session)
    assert endpoint.rows("SELECT name, snapshot_id FROM t.refs") == [{"name": "main", "snapshot_id": 7}]
    assert endpoint.columns("SELECT * FROM t.files") == ["name", "snapshot_id"]
    assert session.statements[-1] == "SELECT * FROM t.files LIMIT 0"


def test_a_bounded_run_stops_the_whole_process_group(tmp_path):
    pid_file = tmp_path / "child.pid"
    script = f"sleep 60 & echo $! > {pid_file}; wait"
    with pytest.raises(subprocess.TimeoutExpired):
        planner.run_bounded(["sh", "-c", script], cwd=tmp_path, env=None, timeout=1)
    # the grandchild (as the Python driver under spark-submit) is ended too: gone, or a zombie
    # waiting for init to reap it. Its pipes close a moment before the kernel marks it a zombie,
    # so allow that moment (a grandchild left running would still be sleeping after it).
    stat = Path(f"/proc/{int(pid_file.read_text())}/stat")

    def ended():
        try:
            return stat.read_text().split(") ", 1)[1].startswith("Z")
        except FileNotFoundError:
            return True

    deadline = time.monotonic() + 2
    while not ended() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert ended()
    done = planner.run_bounded(["sh", "-c", "echo out; echo err >&2; exit 3"], cwd=tmp_path, env=None, timeout=5)
    assert (done.returncode, done.stdout, done.stderr) == (3, "out\n", "err\n")


def test_timestamp_literals_are_utc():
    assert driver.timestamp_literal(0) == "TIMESTAMP '1970-01-01 00:00:00.000'"
    assert driver.sql_string("it's") == "'it\\'s'"


# ---- the module ------------------------------------------------------------------------------


@pytest.fixture
def fake_spark(monkeypatch, tmp_path):
    """spark-submit replaced: records the command and writes the given driver result."""
    submit = tmp_path / "spark-submit"
    submit.write_text("#!/bin/sh\n")
    submit.chmod(0o755)
    seen = {}
    real_mkdtemp = tempfile.mkdtemp

    def install(result, returncode=0, timeout=False):
        def run(command, cwd, env, timeout_seconds=None, **kwargs):
            seen["command"], seen["files"] = command, sorted(p.name for p in (tmp_path / "w").glob("*"))
            seen["env"] = env
            if timeout:
                raise subprocess.TimeoutExpired(command, kwargs.get("timeout"))
            output = command[command.index("--output") + 1]
            if result is not None:
                with open(output, "w") as handle:
                    json.dump(result, handle)
            return subprocess.CompletedProcess(command, returncode, "", "java.lang.OutOfMemoryError")

        (tmp_path / "w").mkdir(exist_ok=True)

        def mkdtemp(prefix=None, **kwargs):  # Ansible makes its own temporary directories too
            return str(tmp_path / "w") if prefix == "iceberg-maintenance." else real_mkdtemp(prefix=prefix, **kwargs)

        monkeypatch.setattr(iceberg_maintenance.tempfile, "mkdtemp", mkdtemp)
        monkeypatch.setattr(iceberg_maintenance.shutil, "rmtree", lambda *a, **k: None)
        monkeypatch.setattr(planner, "run_bounded", run)
        return seen

    install.submit = str(submit)
    return install


METRICS = {"data_files": 600, "current_snapshot_id": 1, "snapshots": 60}
PLAN = {"rewrite_data_files": {"groups": [{"partition": "p", "files": 600, "bytes": 1}], "files": 600}}


def test_module_plans_in_check_mode(run_module, fake_spark):
    seen = fake_spark({"mode": "plan", "plan": PLAN, "before": METRICS, "actions": {}})
    args = {"table": "s.t", "rewrite_data_files": {}, "spark_submit": fake_spark.submit}
    outcome, result = run_module(iceberg_maintenance.main, args, check_mode=True)
    assert outcome == "exit" and result["changed"] and result["plan"]["rewrite_data_files"]["files"] == 600
    assert result["after"] == result["before"]
    assert seen["command"][seen["command"].index("--mode") + 1] == "plan"
    assert seen["files"] == ["iceberg_maintenance.py", "iceberg_spark_driver.py", "request.json"]


def test_module_reports_changed_only_when_a_snapshot_was_committed(run_module, fake_spark):
    args = {"table": "s.t", "rewrite_data_files": {}, "spark_submit": fake_spark.submit, "spark_conf": {"a": "1"}}
    after = dict(METRICS, current_snapshot_id=2, data_files=5)
    seen = fake_spark({"plan": PLAN, "before": METRICS, "after": after, "actions": {"rewrite_data_files": {}}})
    outcome, result = run_module(iceberg_maintenance.main, args)
    assert outcome == "exit" and result["changed"] and result["after"]["data_files"] == 5
    assert ["--conf", "a=1"] == seen["command"][3:5] and "apply" in seen["command"]

    fake_spark({"plan": {"rewrite_data_files": {"groups": []}}, "before": METRICS, "actions": {}})
    outcome, result = run_module(iceberg_maintenance.main, args)
    assert outcome == "exit" and not result["changed"]


@pytest.mark.parametrize(
    ("driver_result", "message"),
    [
        ({"input_error": "table lakehouse.s.t does not exist"}, "does not exist"),
        ({"error": "Traceback ... S3 is down", "plan": {}}, "maintenance of lakehouse.s.t failed"),
        (None, "exited with 1 before the driver reported"),
    ],
)
def test_module_fails_with_the_drivers_reason(run_module, fake_spark, driver_result, message):
    fake_spark(driver_result, returncode=1)
    outcome, result = run_module(iceberg_maintenance.main, {"table": "s.t", "rewrite_data_files": {},
                                                            "spark_submit": fake_spark.submit})  # fmt: skip
    assert outcome == "fail" and message in result["msg"]


def test_module_fails_on_timeout_and_on_bad_input_before_spark_starts(run_module, fake_spark):
    fake_spark(None, timeout=True)
    args = {"table": "s.t", "rewrite_data_files": {}, "spark_submit": fake_spark.submit, "timeout": 5}
    outcome, result = run_module(iceberg_maintenance.main, args)
    assert outcome == "fail" and "timeout=5" in result["msg"]

    seen = fake_spark({})
    for bad, message in (
        ({"rewrite_data_files": {"target_file_size": "100KB"}}, "below 1 MB"),
        ({"remove_orphan_files": {"older_than": "1h"}}, "under 24 h"),
        ({}, "nothing to do: enable at least one of properties, rewrite_data_files, rewrite_position_delete_files"),
        ({"rewrite_data_files": {}, "spark_submit": "/nonexistent/spark-submit"}, "not an executable"),
        (
            {"rewrite_data_files": {"delete_file_threshold": 0}},
            "rewrite_data_files.delete_file_threshold: 0 must be an integer >= 1",
        ),
        (
            {"rewrite_data_files": {"delete_ratio_threshold": 2.0}},
            "rewrite_data_files.delete_ratio_threshold: 2.0 must be a number above 0 and at most 1",
        ),
        (
            {"rewrite_position_delete_files": {"min_delete_files": 0}},
            "rewrite_position_delete_files.min_delete_files: 0 must be an integer >= 1",
        ),
        ({"rewrite_position_delete_files": {"min_delete_files": "ten"}}, "min_delete_files"),
    ):
        seen.clear()
        outcome, result = run_module(
            iceberg_maintenance.main, dict({"table": "s.t", "spark_submit": fake_spark.submit}, **bad)
        )
        assert outcome == "fail" and message in result["msg"] and "command" not in seen, (bad, result)


class FakeEndpointSession:
    """A HiveServer2 session to the SQL endpoint that answers like FakeEngine; refuses a wrong login."""

    make_engine = FakeEngine

    def __init__(self, host, port, user, password, context, timeout, configuration=None):
        if password != "admin-password-1":
            raise iceberg_maintenance.HiveServer2Error("login refused: Error validating the login")
        self.engine = self.make_engine()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return False

    def execute(self, statement, max_rows=1000):
        if statement.endswith(" LIMIT 0") and statement.startswith("SELECT * FROM"):
            return self.engine.columns(statement[: -len(" LIMIT 0")]), []
        rows = self.engine.rows(statement)
        return (list(rows[0]) if rows else []), [list(row.values()) for row in rows]


def test_module_runs_on_the_sql_endpoint_without_an_application(run_module, monkeypatch):
    monkeypatch.setattr(iceberg_maintenance, "HiveServer2", FakeEndpointSession)
    monkeypatch.setattr(iceberg_maintenance, "tls_context", lambda ca_file: None)
    endpoint = {"host": "sql", "port": 10000, "user": "dlfb_admin", "password": "admin-password-1", "ca_file": "/ca"}
    rewrite = {"target_file_size": "4MB", "min_input_files": 2}
    args = {"table": "s.t", "rewrite_data_files": rewrite, "sql_endpoint": endpoint, "spark_submit": "/nonexistent/x"}
    outcome, result = run_module(iceberg_maintenance.main, args, check_mode=True)
    assert outcome == "exit" and result["before"]["data_files"] == 3
    assert result["plan"]["rewrite_data_files"]["files"] == 3 and result["changed"] is True
    outcome, result = run_module(iceberg_maintenance.main, dict(args, table="s.other"))
    assert outcome == "fail" and "does not exist" in result["msg"]
    outcome, result = run_module(
        iceberg_maintenance.main, dict(args, sql_endpoint=dict(endpoint, password="wrong-pass-1"))
    )
    assert outcome == "fail" and "login refused" in result["error"]


# ---- delete files of merge-on-read tables ------------------------------------------------------


def merge_on_read_table(data_files=104, delete_files=100, size=MB):
    """The reported table: small data files, and a file-scoped position delete file (as Spark's MERGE
    writes them) for each of the first delete_files, committed after them."""
    data = [live(0, f"d{i}.parquet", size=size, records=1000, sequence=1 + i % 4) for i in range(data_files)]
    deletes = [
        live(1, f"del{i}.parquet", size=1600, records=1, sequence=5, referenced=f"d{i}.parquet")
        for i in range(delete_files)
    ]
    return data + deletes


def linked_table(live_files, snapshots=()):
    data, deletes = planner.link_deletes(live_files)
    return FakeTable(data, list(snapshots), delete_files=deletes)


DELETE_REWRITE = request(rewrite_position_delete_files={})["actions"]["rewrite_position_delete_files"]


def test_delete_files_are_linked_by_partition_sequence_number_and_reference():
    data, deletes = planner.link_deletes(
        [
            live(0, "a", sequence=1),
            live(0, "a3", sequence=3),
            live(0, "b", sequence=5),
            live(0, "c", partition="p1", sequence=1),
            live(1, "pos3", sequence=3),  # partition-scoped: data files up to sequence 3 (a, a3)
            live(1, "pos0", sequence=0),  # older than every data file of p0: dangling
            live(2, "eq5", sequence=5),  # equality: data files below sequence 5 (a, a3; not b)
            live(2, "eq6", sequence=6, records=4),  # a, a3 and b
            live(1, "dv-b", sequence=7, records=3, referenced="b"),  # file-scoped: b alone
            live(1, "dv-gone", sequence=7, referenced="rewritten-away"),  # its data file is gone: dangling
        ]
    )
    assert {f["path"]: (f["deletes"], f["deleted_records"]) for f in data} == {
        "a": (3, 0), "a3": (3, 0), "b": (2, 3), "c": (0, 0),
    }  # fmt: skip
    assert {d["path"]: d["applies_to"] for d in deletes} == {
        "pos3": 2, "pos0": 0, "eq5": 2, "eq6": 3, "dv-b": 1, "dv-gone": 0,
    }  # fmt: skip
    metrics = planner.table_metrics(data, [], [], small_file_size=MB, delete_files=deletes)
    assert (metrics["position_delete_files"], metrics["position_delete_bytes"]) == (4, 4 * MB)
    assert (metrics["equality_delete_files"], metrics["equality_delete_bytes"]) == (2, 2 * MB)
    assert metrics["dangling_delete_files"] == 2 and metrics["data_files_with_deletes"] == 3


def test_a_table_with_100_position_delete_files_gets_both_rewrites_planned():
    table = linked_table(merge_on_read_table())
    req = request(rewrite_data_files={"target_file_size": "128MB"}, rewrite_position_delete_files={})
    plan = driver.plan(table, req, now_ms=0)
    # every data file is small; the 100 that carry a delete file get their deletes applied ...
    assert (plan["rewrite_data_files"]["files"], plan["rewrite_data_files"]["files_with_deletes"]) == (104, 100)
    # ... which leaves the 100 delete files dangling: the position-delete rewrite takes them all
    deletes = plan["rewrite_position_delete_files"]
    assert (deletes["live_files"], deletes["dangling"], deletes["removable"]) == (100, 0, 0)
    assert deletes["groups"] == [{"partition": "p0", "files": 100, "bytes": 160000}]
    assert planner.plan_has_work({"rewrite_position_delete_files": deletes})
    assert table.calls == [] and table.sql == []


def test_well_sized_data_files_are_rewritten_for_their_deletes_from_the_threshold_on():
    data = [live(0, f"big{i}", size=128 * MB, records=1000) for i in range(4)]
    deletes = [live(1, f"del{i}", records=1, sequence=2, referenced="big0") for i in range(5)]
    table = linked_table(data + deletes)
    for threshold, planned in ((5, 1), (6, 0)):
        req = request(rewrite_data_files={"target_file_size": "128MB", "delete_file_threshold": threshold})
        plan = driver.plan(table, req, now_ms=0)["rewrite_data_files"]
        assert (plan["files"], plan["files_with_deletes"]) == (planned, planned), threshold
    # a data file whose file-scoped deletes remove 40 % of its rows: Iceberg's delete-ratio-threshold
    heavy = linked_table([*data, live(1, "half", records=400, sequence=2, referenced="big1")])
    for ratio, planned in ((0.3, 1), (0.5, 0)):
        req = request(rewrite_data_files={"target_file_size": "128MB", "delete_ratio_threshold": ratio})
        assert driver.plan(heavy, req, now_ms=0)["rewrite_data_files"]["files"] == planned, ratio


def test_a_table_without_delete_files_gets_neither():
    table = linked_table([live(0, f"big{i}", size=128 * MB) for i in range(4)])
    req = request(rewrite_data_files={"target_file_size": "128MB"}, rewrite_position_delete_files={})
    plan = driver.plan(table, req, now_ms=0)
    assert plan["rewrite_data_files"]["files"] == 0
    assert plan["rewrite_position_delete_files"] == {
        "groups": [], "files": 0, "bytes": 0, "partitions": 0, "files_with_deletes": 0,
        "live_files": 0, "dangling": 0, "removable": 0,
    }  # fmt: skip
    assert not planner.plan_has_work(plan)
    assert driver.apply(table, req, plan, retries=3, now_ms=0) == {} and table.calls == []


def test_the_position_delete_rewrite_waits_for_min_delete_files_and_for_something_to_remove():
    data = [live(0, f"d{i}", size=128 * MB) for i in range(10)]

    def deletes(count, per_file=1):  # per_file delete files for each of count data files
        return [live(1, f"del{i}-{n}", sequence=2, referenced=f"d{i}") for i in range(count) for n in range(per_file)]

    def planned(files, **options):
        linked = planner.link_deletes(data + files)[1]
        return planner.plan_position_deletes(linked, dict(DELETE_REWRITE, **options))

    assert planned(deletes(3, per_file=3))["files"] == 0  # 9 < min_delete_files 10
    plan = planned(deletes(5, per_file=2))
    assert (plan["live_files"], plan["removable"], plan["files"]) == (10, 5, 10)
    assert planned(deletes(5, per_file=2), min_delete_files=11)["files"] == 0
    # compacted already (one per data file, none dangling): not rewritten again on every run
    assert (planned(deletes(10))["removable"], planned(deletes(10))["files"]) == (0, 0)
    # a dangling one makes it worth it; rewrite_all takes every file, Iceberg's size rules only groups
    dangling = [live(1, "gone", sequence=2, referenced="rewritten-away")]
    assert planned(deletes(10) + dangling)["files"] == 11
    assert planned(deletes(10) + dangling, rewrite_all=False, min_input_files=20)["files"] == 0
    assert planned(deletes(10) + dangling, rewrite_all=False, min_input_files=5)["files"] == 11


class MergeOnReadEngine:
    """A merge-on-read table behind the driver's SQL, answering as Iceberg would: the entries table
    lists self.live; rewrite_data_files replaces the data files with 4 (their file-scoped deletes
    then dangle), rewrite_position_delete_files drops the dangling position deletes. Records every
    statement."""

    def __init__(self, live_files):
        self.live, self.statements, self.snapshot = list(live_files), [], 1

    def columns(self, query):
        if query.startswith("SELECT data_file.* FROM lakehouse.s.t.entries"):
            return ["content", "file_path", "spec_id", "partition", "record_count", "file_size_in_bytes",
                    "referenced_data_file", "content_offset", "content_size_in_bytes"]  # fmt: skip
        if query.startswith("SELECT * FROM lakehouse.s.t"):
            return ["id", "op"]
        raise RuntimeError(f"TABLE_OR_VIEW_NOT_FOUND: {query}")

    def _commit(self, kept, added):
        self.live = [f for f in self.live if kept(f)] + added
        self.snapshot += 1

    def rows(self, query):
        self.statements.append(query)
        if ".entries" in query:
            return [dict(f) for f in self.live]
        if ".snapshots" in query:
            return [{"snapshot_id": i, "committed_at_ms": i} for i in range(1, self.snapshot + 1)]
        if ".refs" in query:
            return [{"name": "main", "snapshot_id": self.snapshot}]
        if ".manifests" in query:
            return [{"path": "m", "length": 1}]
        if "system.rewrite_data_files" in query:
            rewritten = [f for f in self.live if f["content"] == 0]
            records = sum(f["records"] for f in rewritten) - sum(f["records"] for f in self.live if f["content"])
            added = [live(0, f"new{i}", size=100 * MB, records=records // 4, sequence=5) for i in range(4)]
            self._commit(lambda f: f["content"] != 0, added)
            return [{"rewritten_data_files_count": len(rewritten), "added_data_files_count": 4,
                     "rewritten_bytes_count": sum(f["size"] for f in rewritten), "failed_data_files_count": 0,
                     "removed_delete_files_count": 0}]  # fmt: skip
        if "system.rewrite_position_delete_files" in query:
            data = {f["path"] for f in self.live if f["content"] == 0}
            position = [f for f in self.live if f["content"] == 1]
            kept = [f for f in position if f["referenced_data_file"] in data]
            self._commit(lambda f: f["content"] != 1, kept)
            return [{"rewritten_delete_files_count": len(position), "added_delete_files_count": len(kept),
                     "rewritten_bytes_count": sum(f["size"] for f in position),
                     "added_bytes_count": sum(f["size"] for f in kept)}]  # fmt: skip
        return []


MOR_REQUEST = request(rewrite_data_files={"target_file_size": "128MB"}, rewrite_position_delete_files={})
DATA_REWRITE_CALL = (
    "CALL lakehouse.system.rewrite_data_files(table => 's.t', strategy => 'binpack', options => map("
    "'target-file-size-bytes', '134217728', 'min-file-size-bytes', '100663296', "
    "'max-file-size-bytes', '241591910', 'min-input-files', '5', 'max-file-group-size-bytes', '107374182400', "
    "'partial-progress.enabled', 'true', 'partial-progress.max-commits', '10', "
    "'max-concurrent-file-group-rewrites', '2', 'delete-file-threshold', '5', 'delete-ratio-threshold', '0.3', "
    "'remove-dangling-deletes', 'true'))"
)
POSITION_DELETE_REWRITE_CALL = (
    "CALL lakehouse.system.rewrite_position_delete_files(table => 's.t', options => map("
    "'rewrite-all', 'true', 'min-input-files', '5', 'target-file-size-bytes', '67108864'))"
)


def test_the_driver_applies_the_deletes_then_compacts_the_delete_files():
    engine = MergeOnReadEngine(merge_on_read_table())
    result = {}
    driver.run(engine, MOR_REQUEST, "apply", result)
    entries = next(q for q in engine.statements if ".entries" in q)
    assert entries == (
        "SELECT data_file.content AS content, data_file.file_path AS path, "
        "coalesce(data_file.content_size_in_bytes, data_file.file_size_in_bytes) AS size, "
        "data_file.record_count AS records, concat(data_file.spec_id, ':', to_json(data_file.partition)) "
        "AS partition, data_file.referenced_data_file AS referenced_data_file, "
        "coalesce(sequence_number, 0) AS sequence_number FROM lakehouse.s.t.entries WHERE status < 2"
    )
    assert [q for q in engine.statements if q.startswith("CALL")] == [DATA_REWRITE_CALL, POSITION_DELETE_REWRITE_CALL]
    before, after = result["before"], result["after"]
    assert (before["data_files"], before["position_delete_files"], before["position_delete_bytes"]) == (
        104,
        100,
        160000,
    )
    assert (before["dangling_delete_files"], before["data_files_with_deletes"]) == (0, 100)
    assert (after["data_files"], after["position_delete_files"], after["dangling_delete_files"]) == (4, 0, 0)
    assert after["records"] == before["records"] - 100
    done = result["actions"]["rewrite_position_delete_files"]
    assert (done["planned_files"], done["dangling"], done["rewritten_delete_files_count"]) == (100, 100, 100)

    # the next run finds nothing to do and calls nothing
    engine.statements.clear()
    again = {}
    driver.run(engine, MOR_REQUEST, "apply", again)
    assert not planner.plan_has_work(again["plan"]) and not any(q.startswith("CALL") for q in engine.statements)


def test_plan_mode_reports_the_delete_work_and_runs_no_procedure():
    engine = MergeOnReadEngine(merge_on_read_table())
    result = {}
    driver.run(engine, MOR_REQUEST, "plan", result)
    assert result["plan"]["rewrite_position_delete_files"]["files"] == 100 and "after" not in result
    assert not any(q.startswith(("CALL", "ALTER")) for q in engine.statements)
    assert engine.snapshot == 1


def test_the_textfile_has_the_delete_file_gauges(tmp_path):
    engine = MergeOnReadEngine(merge_on_read_table())
    result = {}
    driver.run(engine, MOR_REQUEST, "apply", result)
    report = planner.write_metrics(
        planner.normalize_request({"table": "s.t"}), result, True, now=100, json_dir=tmp_path, textfile_dir=tmp_path
    )
    assert report["before"]["position_delete_files"] == 100 and report["after"]["position_delete_files"] == 0
    text = (tmp_path / "iceberg_maintenance_lakehouse_s_t.prom").read_text()
    for line in (
        'iceberg_table_delete_files{table="lakehouse.s.t",content="position"} 0',
        'iceberg_table_delete_files{table="lakehouse.s.t",content="equality"} 0',
        'iceberg_table_delete_file_bytes{table="lakehouse.s.t",content="position"} 0',
        'iceberg_table_dangling_delete_files{table="lakehouse.s.t"} 0',
        'iceberg_table_data_files_with_deletes{table="lakehouse.s.t"} 0',
        'iceberg_maintenance_rewritten_delete_files{table="lakehouse.s.t"} 100',
        'iceberg_maintenance_dangling_deletes_removed{table="lakehouse.s.t"} 0',
        'iceberg_table_data_files{table="lakehouse.s.t"} 4',
    ):
        assert line in text.splitlines(), line
    # one HELP and TYPE per metric, before its samples (Prometheus' text format)
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    assert len(names) == len(set(names)) and text.count("# HELP iceberg_table_delete_files ") == 1
    samples = [line.split("{")[0] for line in text.splitlines() if not line.startswith("#")]
    assert samples.count("iceberg_table_delete_files") == 2 and set(samples) == set(names)

    # a record without delete figures (an older version's) gives no delete-file gauges
    old = planner.prometheus_text({"table": "t", "ok": True, "finished_at": 1, "last_success_at": 1,
                                   "after": {"data_files": 3}})  # fmt: skip
    assert 'iceberg_table_data_files{table="t"} 3' in old
    assert "iceberg_table_delete_files" not in old and "iceberg_table_dangling_delete_files" not in old


def test_module_check_mode_on_the_endpoint_plans_the_delete_work_and_runs_nothing(run_module, monkeypatch):
    engine = MergeOnReadEngine(merge_on_read_table())
    monkeypatch.setattr(FakeEndpointSession, "make_engine", lambda self: engine)
    monkeypatch.setattr(iceberg_maintenance, "HiveServer2", FakeEndpointSession)
    monkeypatch.setattr(iceberg_maintenance, "tls_context", lambda ca_file: None)
    endpoint = {"host": "sql", "user": "dlfb_admin", "password": "admin-password-1", "ca_file": "/ca"}
    args = {
        "table": "s.t",
        "rewrite_data_files": {"target_file_size": "128MB", "delete_file_threshold": 3},
        "rewrite_position_delete_files": {"min_delete_files": 50},
        "sql_endpoint": endpoint,
    }
    outcome, result = run_module(iceberg_maintenance.main, args, check_mode=True)
    assert outcome == "exit" and result["changed"] and result["actions"] == {}
    assert result["plan"]["rewrite_position_delete_files"]["files"] == 100
    assert result["before"]["position_delete_files"] == result["after"]["position_delete_files"] == 100
    assert not any(q.startswith("CALL") for q in engine.statements) and engine.snapshot == 1

    outcome, result = run_module(iceberg_maintenance.main, args)
    assert outcome == "exit" and result["changed"] and result["after"]["position_delete_files"] == 0
    calls = [q for q in engine.statements if q.startswith("CALL")]
    assert [q.split("(")[0] for q in calls] == [
        "CALL lakehouse.system.rewrite_data_files",
        "CALL lakehouse.system.rewrite_position_delete_files",
    ]
    assert "'delete-file-threshold', '3'" in calls[0]


def test_the_roles_default_policy_passes_the_modules_checks():
    """The role's policy takes the thresholds from its variables: rendered as Ansible does (numbers
    stay numbers; an extra var arrives as text), it is a request the module accepts."""

    def trusted(value):  # as Ansible trusts the role's own files
        if isinstance(value, dict):
            return {key: trusted(item) for key, item in value.items()}
        return trust_as_template(value) if isinstance(value, str) else value

    defaults_file = Path(__file__).resolve().parents[3] / "roles" / "iceberg_maintenance" / "defaults" / "main.yml"
    defaults = trusted(yaml.safe_load(defaults_file.read_text()))
    for extra in ({}, {"iceberg_maintenance_delete_file_threshold": "3", "iceberg_maintenance_min_delete_files": 7}):
        variables = dict(defaults, **extra)
        policy = Templar(loader=DataLoader(), variables=variables).template(variables["iceberg_maintenance_policy"])
        actions = planner.normalize_request(dict(policy, table="cdc.orders"))["actions"]
        expected = (3, 7) if extra else (5, 10)
        assert (
            actions["rewrite_data_files"]["delete_file_threshold"],
            actions["rewrite_position_delete_files"]["min_delete_files"],
        ) == expected
