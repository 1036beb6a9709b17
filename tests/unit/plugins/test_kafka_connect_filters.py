"""The kafka_connect filters (plugins/filter/kafka_connect.py)."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datalake_fb.platform.plugins.filter.kafka_connect import FilterModule, connect_not_running


def status(connector="RUNNING", tasks=(("RUNNING", "10.0.0.1:8083"),)):
    return {
        "status": {
            "connector": {"state": connector, "worker_id": "10.0.0.1:8083"},
            "tasks": [
                {"id": number, "state": state, "worker_id": worker} for number, (state, worker) in enumerate(tasks)
            ],
        }
    }


def test_a_running_group_has_nothing_to_report():
    assert connect_not_running({}) == []
    assert connect_not_running({"a": status(), "b": status(tasks=(("RUNNING", "w1"), ("RUNNING", "w2")))}) == []


def test_every_connector_and_task_not_running_is_named_with_its_worker():
    found = connect_not_running(
        {
            "b": status(tasks=(("RUNNING", "w1"), ("FAILED", "w2"))),
            "a": status(connector="FAILED", tasks=()),
            "c": status(tasks=(("UNASSIGNED", "w3"),)),
        }
    )
    assert found == ["a: connector FAILED", "a: no task", "b task 1: FAILED on w2", "c task 0: UNASSIGNED on w3"]


def test_a_connector_without_status_is_not_running():
    assert connect_not_running({"a": {}}) == ["a: connector UNKNOWN", "a: no task"]


def test_anything_but_the_status_object_is_refused():
    with pytest.raises(AnsibleFilterError, match="expand=status"):
        connect_not_running(["a"])
    assert FilterModule().filters()["connect_not_running"] is connect_not_running
