"""The keepalived role's notify hook (roles/keepalived/files/keepalived-notify.py)."""

import importlib.util
import json
import sys
from pathlib import Path

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
