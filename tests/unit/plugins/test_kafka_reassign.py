"""kafka_reassign: the placement planner (drain a broker, spread onto a new one) and the module
against a fake admin client that applies a reassignment after a few polls."""

import pytest

from ansible_collections.datalake_fb.platform.plugins.module_utils import kafka_admin
from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    ReassignmentPlanError,
    plan_reassignment,
)
from ansible_collections.datalake_fb.platform.plugins.modules import kafka_reassign


def counts(assignments, plan):
    result = {}
    for name, replicas in assignments.items():
        for broker in plan.get(name, replicas):
            result[broker] = result.get(broker, 0) + 1
    return result


def test_draining_moves_only_the_leaving_brokers_replicas_and_keeps_the_rest_in_place():
    assignments = {"t-0": [4, 1, 2], "t-1": [1, 4, 3], "t-2": [2, 3, 1], "t-3": [3, 1, 4]}
    plan = plan_reassignment(assignments, [1, 2, 3])
    assert set(plan) == {"t-0", "t-1", "t-3"}
    for name, replicas in plan.items():
        assert 4 not in replicas and len(set(replicas)) == 3
        kept = [b for b in assignments[name] if b != 4]
        assert [b for b in replicas if b in kept] == kept  # the others keep their place and order
    assert plan["t-1"][0] == 1  # a preferred leader that stays keeps leading


def test_draining_fills_the_least_loaded_broker():
    assignments = {"a-0": [1, 4], "a-1": [1, 2], "a-2": [1, 2], "a-3": [2, 3]}
    assert plan_reassignment(assignments, [1, 2, 3]) == {"a-0": [1, 3]}


def test_nothing_to_move_gives_an_empty_plan():
    assert plan_reassignment({"t-0": [1, 2, 3]}, [1, 2, 3]) == {}
    assert plan_reassignment({"t-0": [1, 2, 3]}, [1, 2, 3], balance=True) == {}


def test_a_partition_wider_than_the_brokers_left_is_refused():
    with pytest.raises(ReassignmentPlanError, match="t-0 has 3 replicas and only 2 brokers would be left"):
        plan_reassignment({"t-0": [1, 2, 3]}, [1, 2])


def test_balancing_spreads_onto_a_new_broker_within_one_replica():
    assignments = {f"t-{i}": [1 + i % 3, 1 + (i + 1) % 3] for i in range(12)}
    plan = plan_reassignment(assignments, [1, 2, 3, 4], balance=True)
    after = counts(assignments, plan)
    assert max(after.values()) - min(after.values()) <= 1 and after[4] == 6
    for name, replicas in plan.items():
        assert len(set(replicas)) == 2 and replicas[0] == assignments[name][0]  # followers move first


class FakeCluster:
    """describe_cluster / describe_topics / alter and list reassignments over in-memory partitions;
    a reassignment completes after `lag` polls of list_partition_reassignments."""

    def __init__(self, partitions, brokers=(1, 2, 3, 4), lag=2):
        self.partitions = partitions
        self.brokers = brokers
        self.pending = {}
        self.lag = lag
        self.requests = []

    def describe_cluster(self):
        return {"brokers": [{"broker_id": b} for b in self.brokers]}

    def describe_topics(self):
        topics = {}
        for name, replicas in self.partitions.items():
            topic, index = name.rsplit("-", 1)
            topics.setdefault(topic, []).append(
                {"partition_index": int(index), "replica_nodes": replicas, "isr_nodes": replicas}
            )
        return [{"name": topic, "partitions": parts} for topic, parts in topics.items()]

    def alter_partition_reassignments(self, request):
        self.requests.append(request)
        self.pending = {f"{tp.topic}-{tp.partition}": replicas for tp, replicas in request.items()}
        return dict.fromkeys(request)

    def list_partition_reassignments(self):
        if self.pending:
            self.lag -= 1
            if self.lag <= 0:
                self.partitions.update(self.pending)
                self.pending = {}
        return dict(self.pending)

    def close(self):
        pass


@pytest.fixture
def cluster(monkeypatch):
    fake = FakeCluster({"events-0": [4, 1, 2], "events-1": [1, 2, 3], "__consumer_offsets-0": [2, 4, 3]})
    monkeypatch.setattr(kafka_admin, "KAFKA_IMPORT_ERROR", None)
    monkeypatch.setattr(kafka_reassign, "KAFKA_IMPORT_ERROR", None)
    monkeypatch.setattr(kafka_reassign, "admin_client", lambda params: fake)
    monkeypatch.setattr(kafka_reassign.time, "sleep", lambda seconds: None)
    return fake


def test_module_drains_a_broker_and_waits_until_the_moves_are_in_sync(cluster, run_module):
    outcome, result = run_module(kafka_reassign.main, {"brokers": [1, 2, 3]})
    assert outcome == "exit" and result["changed"]
    assert set(result["moves"]) == {"events-0", "__consumer_offsets-0"}
    assert all(4 not in replicas for replicas in cluster.partitions.values())
    assert result["replica_counts"] == {"1": 3, "2": 3, "3": 3}
    outcome, result = run_module(kafka_reassign.main, {"brokers": [1, 2, 3]})
    assert outcome == "exit" and not result["changed"] and result["moves"] == {}


def test_module_check_mode_moves_nothing(cluster, run_module):
    outcome, result = run_module(kafka_reassign.main, {"brokers": [1, 2, 3]}, check_mode=True)
    assert outcome == "exit" and result["changed"] and cluster.requests == []
    assert cluster.partitions["events-0"] == [4, 1, 2]


def test_module_refuses_unknown_brokers_and_impossible_plans_before_moving(cluster, run_module):
    outcome, result = run_module(kafka_reassign.main, {"brokers": [1, 2, 7]})
    assert outcome == "fail" and "brokers [7] are not registered" in result["msg"]
    outcome, result = run_module(kafka_reassign.main, {"brokers": [1, 2]})
    assert outcome == "fail" and "nothing was moved" in result["msg"] and "only 2 brokers" in result["msg"]
    assert cluster.requests == []


def test_module_fails_at_its_wait_bound(cluster, run_module, monkeypatch):
    cluster.lag = 10**6
    clock = iter(range(0, 10**6, 30))
    monkeypatch.setattr(kafka_reassign.time, "monotonic", lambda: next(clock))
    outcome, result = run_module(kafka_reassign.main, {"brokers": [1, 2, 3], "wait_timeout": 60})
    assert outcome == "fail" and "not in sync yet" in result["msg"] and result["waited"] >= 60
