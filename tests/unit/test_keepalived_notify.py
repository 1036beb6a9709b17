"""The keepalived role's notify hook (roles/keepalived/files/keepalived-notify.py)."""

import importlib.util
import json
import sys
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "keepalived_notify", Path(__file__).resolve().parents[2] / "roles/keepalived/files/keepalived-notify.py"
)
notify = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(notify)


def test_a_transition_names_the_old_and_new_state():
    record = notify.transition("BACKUP", ["INSTANCE", "datalake", "MASTER", "150"], "n1", 12.3456)
    assert record == {
        "time": 12.346,
        "node": "n1",
        "type": "INSTANCE",
        "instance": "datalake",
        "old_state": "BACKUP",
        "new_state": "MASTER",
        "priority": 150,
    }
    assert notify.transition(None, ["INSTANCE", "datalake", "FAULT"], "n1", 1)["priority"] is None


def test_each_run_appends_a_line_and_remembers_the_state(tmp_path, monkeypatch):
    record_file = tmp_path / "transitions.jsonl"
    for state in ["BACKUP", "MASTER", "FAULT"]:
        monkeypatch.setattr(sys, "argv", ["notify", str(record_file), "INSTANCE", "datalake", state, "100"])
        notify.main()
    lines = [json.loads(line) for line in record_file.read_text().splitlines()]
    moves = [(line["old_state"], line["new_state"]) for line in lines]
    assert moves == [(None, "BACKUP"), ("BACKUP", "MASTER"), ("MASTER", "FAULT")]
    assert (tmp_path / "transitions.jsonl.state").read_text() == "FAULT\n"


def test_the_metrics_count_the_times_the_node_took_the_vip(tmp_path):
    record_file, prom = tmp_path / "transitions.jsonl", tmp_path / "keepalived.prom"
    for state in ["BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"]:
        notify.main(["--metrics", str(prom), str(record_file), "INSTANCE", "datalake", state, "100"])
    text = prom.read_text()
    assert 'keepalived_vrrp_master{vrrp_instance="datalake"} 1\n' in text
    assert 'keepalived_vrrp_became_master_total{vrrp_instance="datalake"} 2\n' in text
    assert "# TYPE keepalived_vrrp_became_master_total counter" in text
    notify.main(["--metrics", str(prom), str(record_file), "INSTANCE", "datalake", "BACKUP", "100"])
    assert 'keepalived_vrrp_master{vrrp_instance="datalake"} 0\n' in prom.read_text()


def test_group_records_are_not_instances():
    records = [
        {"type": "GROUP", "instance": "g", "new_state": "MASTER", "time": 1},
        {"type": "INSTANCE", "instance": "datalake", "new_state": "BACKUP", "time": 2},
    ]
    text = notify.metrics(records)
    assert 'vrrp_instance="g"' not in text
    assert 'keepalived_vrrp_last_transition_timestamp_seconds{vrrp_instance="datalake"} 2\n' in text


def test_refresh_rewrites_only_a_missing_or_stale_file(tmp_path, capsys):
    record_file, prom = tmp_path / "transitions.jsonl", tmp_path / "keepalived.prom"
    notify.main([str(record_file), "INSTANCE", "datalake", "MASTER", "150"])
    assert not prom.exists()
    notify.main(["--metrics", str(prom), "--refresh", str(record_file)])
    notify.main(["--metrics", str(prom), "--refresh", str(record_file)])
    assert capsys.readouterr().out.split() == ["written", "unchanged"]
    assert 'keepalived_vrrp_master{vrrp_instance="datalake"} 1\n' in prom.read_text()


def test_refresh_without_records_writes_only_the_help(tmp_path):
    prom = tmp_path / "keepalived.prom"
    notify.main(["--metrics", str(prom), "--refresh", str(tmp_path / "none.jsonl")])
    assert "vrrp_instance" not in prom.read_text()


def test_bad_arguments_are_refused(tmp_path):
    with pytest.raises(SystemExit):
        notify.main(["--refresh", str(tmp_path / "t.jsonl")])
    with pytest.raises(SystemExit):
        notify.main([str(tmp_path / "t.jsonl"), "INSTANCE"])
