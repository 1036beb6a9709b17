"""kafka_topic / kafka_cluster_info: the planning logic, the admin-client calls against a fake
admin client with kafka-python's interface, and the modules' check and diff modes."""

import pytest

from ansible_collections.datalake_fb.platform.plugins.module_utils import kafka_admin
from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    TopicPlanError,
    normalize_config,
    plan_changes,
    plan_topic,
)
from ansible_collections.datalake_fb.platform.plugins.modules import kafka_cluster_info, kafka_topic

CURRENT = {"partitions": 3, "replication_factor": 1, "config": {"retention.ms": "604800000"}}


def wanted(**kwargs):
    base = {"state": "present", "partitions": None, "replication_factor": None, "config": {}}
    base.update(kwargs)
    return base


def test_plan_creates_a_missing_topic_and_deletes_an_unwanted_one():
    assert plan_topic(None, wanted(partitions=3))["create"]
    assert plan_topic(CURRENT, wanted(state="absent"))["delete"]
    assert not plan_changes(plan_topic(None, wanted(state="absent")))


def test_plan_changes_nothing_when_the_topic_matches():
    plan = plan_topic(CURRENT, wanted(partitions=3, replication_factor=1, config={"retention.ms": 604800000}))
    assert not plan_changes(plan)


def test_plan_grows_partitions_and_alters_only_differing_config():
    plan = plan_topic(CURRENT, wanted(partitions=6, config={"retention.ms": "604800000", "cleanup.policy": "compact"}))
    assert plan["add_partitions"] == 6
    assert plan["alter_config"] == {"cleanup.policy": "compact"}


def test_plan_refuses_what_kafka_cannot_do_in_place():
    with pytest.raises(TopicPlanError, match="cannot remove partitions"):
        plan_topic(CURRENT, wanted(partitions=2))
    with pytest.raises(TopicPlanError, match="replication factor is 1, not 3"):
        plan_topic(CURRENT, wanted(replication_factor=3))


def test_config_values_compare_as_kafka_reports_them():
    assert normalize_config({"retention.ms": 1000, "compact": True, "x": False, "y": "s"}) == {
        "retention.ms": "1000",
        "compact": "true",
        "x": "false",
        "y": "s",
    }
    assert normalize_config(None) == {}


class FakeAdmin:
    """The subset of kafka-python's KafkaAdminClient the modules use, over an in-memory cluster."""

    def __init__(self, topics=None, brokers=(1,)):
        self.topics = {name: dict(topic, config=dict(topic["config"])) for name, topic in (topics or {}).items()}
        self.brokers = brokers
        self.calls = []
        self.closed = False

    def describe_topics(self, names=None):
        names = names if names is not None else sorted(self.topics)
        result = []
        for name in names:
            topic = self.topics.get(name)
            if topic is None:
                result.append({"name": name, "error_code": kafka_admin.UNKNOWN_TOPIC_OR_PARTITION, "partitions": []})
                continue
            replicas = list(self.brokers)[: topic["replication_factor"]]
            leader = -1 if topic.get("offline") else replicas[0]
            isr = replicas[:1] if topic.get("under_replicated") else replicas
            result.append(
                {
                    "name": name,
                    "error_code": 0,
                    "partitions": [
                        {"partition_index": i, "leader_id": leader, "replica_nodes": replicas, "isr_nodes": isr}
                        for i in range(topic["partitions"])
                    ],
                }
            )
        return result

    def describe_configs(self, resources, config_filter="modified"):
        described = {}
        for resource in resources:
            entries = {
                key: {"value": value, "config_source": "DYNAMIC_TOPIC_CONFIG"}
                for key, value in self.topics[resource.name]["config"].items()
            }
            if config_filter == "all":  # what the broker adds: defaults and its own settings
                entries.setdefault("segment.bytes", {"value": "1073741824", "config_source": "DEFAULT_CONFIG"})
                entries.setdefault("min.insync.replicas", {"value": "2", "config_source": "STATIC_BROKER_CONFIG"})
            described[resource.name] = entries
        return {"topic": described}

    def create_topics(self, new_topics, timeout_ms=None, wait_for_metadata=False):
        self.calls.append(("create", new_topics))
        for name, spec in new_topics.items():
            self.topics[name] = {
                "partitions": spec["num_partitions"],
                "replication_factor": spec["replication_factor"],
                "config": dict(spec["configs"]),
            }

    def delete_topics(self, names, timeout_ms=None):
        self.calls.append(("delete", names))
        for name in names:
            del self.topics[name]

    def create_partitions(self, counts, timeout_ms=None):
        self.calls.append(("partitions", counts))
        for name, count in counts.items():
            self.topics[name]["partitions"] = count

    def alter_configs(self, resources):
        self.calls.append(("config", resources[0].configs))
        self.topics[resources[0].name]["config"].update(resources[0].configs)
        return {"topic": {resources[0].name: "OK"}}

    def describe_cluster(self):
        return {
            "cluster_id": "MkU3OEVBNTcwNTJENDM2Qk",
            "controller_id": self.brokers[0] if self.brokers else -1,
            "brokers": [{"broker_id": b, "host": f"kafka{b}", "port": 9092} for b in self.brokers],
        }

    def close(self):
        self.closed = True


@pytest.fixture
def admin(monkeypatch):
    fake = FakeAdmin({"events": CURRENT})
    monkeypatch.setattr(kafka_admin, "KAFKA_IMPORT_ERROR", None)
    for module in (kafka_topic, kafka_cluster_info):
        monkeypatch.setattr(module, "KAFKA_IMPORT_ERROR", None)
        monkeypatch.setattr(module, "admin_client", lambda params: fake)
    return fake


def test_topic_module_creates_then_reports_no_change(admin, run_module):
    args = {"name": "cdc.vendas", "partitions": 6, "replication_factor": 1, "config": {"retention.ms": 86400000}}
    outcome, result = run_module(kafka_topic.main, args, diff=True)
    assert outcome == "exit" and result["changed"] and result["actions"]["create"]
    assert admin.topics["cdc.vendas"] == {
        "partitions": 6,
        "replication_factor": 1,
        "config": {"retention.ms": "86400000"},
    }
    assert result["diff"]["before"] == {} and result["diff"]["after"]["partitions"] == 6
    outcome, result = run_module(kafka_topic.main, args)
    assert outcome == "exit" and not result["changed"]
    assert admin.closed


def test_topic_module_check_mode_changes_nothing(admin, run_module):
    outcome, result = run_module(
        kafka_topic.main, {"name": "events", "partitions": 5, "config": {"retention.ms": 1000}}, check_mode=True
    )
    assert outcome == "exit" and result["changed"]
    assert result["topic"] == {"partitions": 5, "replication_factor": 1, "config": {"retention.ms": "1000"}}
    assert admin.calls == [] and admin.topics["events"]["partitions"] == 3


def test_topic_module_grows_alters_and_deletes(admin, run_module):
    outcome, result = run_module(
        kafka_topic.main, {"name": "events", "partitions": 4, "config": {"retention.ms": 1000}}
    )
    assert outcome == "exit" and result["changed"]
    assert admin.calls == [("partitions", {"events": 4}), ("config", {"retention.ms": "1000"})]
    outcome, result = run_module(kafka_topic.main, {"name": "events", "state": "absent"})
    assert outcome == "exit" and result["changed"] and result["topic"] is None and "events" not in admin.topics


def test_topic_module_fails_before_changing_anything(admin, run_module):
    outcome, result = run_module(kafka_topic.main, {"name": "events", "partitions": 1})
    assert outcome == "fail" and "cannot remove partitions" in result["msg"]
    outcome, result = run_module(kafka_topic.main, {"name": "bad name!"})
    assert outcome == "fail" and "not a valid Kafka topic name" in result["msg"]
    outcome, result = run_module(kafka_topic.main, {"name": "t", "partitions": 0})
    assert outcome == "fail" and "partitions must be at least 1" in result["msg"]
    assert admin.calls == []


def test_topic_module_reports_broker_errors(admin, run_module, monkeypatch):
    def broken(*args, **kwargs):
        raise kafka_admin.KafkaError("NotControllerError")

    monkeypatch.setattr(admin, "create_topics", broken)
    outcome, result = run_module(kafka_topic.main, {"name": "new"})
    assert outcome == "fail" and "NotControllerError" in result["msg"]


def test_cluster_info_reports_brokers_and_partition_health(admin, run_module):
    admin.brokers = (1, 2, 3)
    admin.topics["events"]["replication_factor"] = 3
    admin.topics["down"] = {"partitions": 1, "replication_factor": 1, "config": {}, "offline": True}
    admin.topics["lagging"] = {"partitions": 2, "replication_factor": 3, "config": {}, "under_replicated": True}
    outcome, result = run_module(kafka_cluster_info.main, {"bootstrap_servers": ["kafka1:9092"]})
    assert outcome == "exit" and not result["changed"]
    assert [b["node_id"] for b in result["brokers"]] == [1, 2, 3] and result["controller_id"] == 1
    assert result["offline_partitions"] == ["down-0"]
    assert result["under_replicated_partitions"] == ["lagging-0", "lagging-1"]
    assert result["topics"] == ["down", "events", "lagging"]


def test_cluster_info_exports_topic_definitions_with_topic_level_config_only(admin, run_module):
    admin.brokers = (1, 2, 3)
    admin.topics["__consumer_offsets"] = {"partitions": 50, "replication_factor": 3, "config": {}}
    admin.topics["audit"] = {"partitions": 2, "replication_factor": 3, "config": {}}
    outcome, result = run_module(kafka_cluster_info.main, {"topic_definitions": True})
    assert outcome == "exit" and not result["changed"]
    assert result["topic_definitions"] == [
        {"name": "audit", "partitions": 2, "replication_factor": 3, "config": {}},
        {"name": "events", "partitions": 3, "replication_factor": 1, "config": {"retention.ms": "604800000"}},
    ]
    outcome, result = run_module(kafka_cluster_info.main, {})
    assert "topic_definitions" not in result


def test_cluster_info_without_controller(admin, run_module):
    admin.brokers = ()
    admin.topics = {}
    outcome, result = run_module(kafka_cluster_info.main, {})
    assert outcome == "exit" and result["controller_id"] is None and result["brokers"] == []


def test_modules_need_kafka_python(run_module, monkeypatch):
    for module in (kafka_topic, kafka_cluster_info):
        monkeypatch.setattr(module, "KAFKA_IMPORT_ERROR", "ImportError: no module named kafka")
    outcome, result = run_module(kafka_topic.main, {"name": "t"})
    assert outcome == "fail" and "kafka-python" in result["msg"]
    outcome, result = run_module(kafka_cluster_info.main, {})
    assert outcome == "fail" and "kafka-python" in result["msg"]


def test_describe_topic_on_an_error_code_raises():
    fake = FakeAdmin()
    fake.describe_topics = lambda names: [{"name": names[0], "error_code": 29, "partitions": []}]
    with pytest.raises(kafka_admin.KafkaError, match="error code 29"):
        kafka_admin.describe_topic(fake, "secret", [])


def test_health_problems_name_what_is_wrong():
    summary = {
        "brokers": [{"node_id": 1}, {"node_id": 2}],
        "controller_id": None,
        "offline_partitions": ["a-0"],
        "under_replicated_partitions": ["b-1"],
    }
    problems = kafka_admin.health_problems(summary, expected_brokers=3, fully_replicated=True)
    assert problems == [
        "2 of 3 brokers registered",
        "no active controller",
        "offline partitions: a-0",
        "under-replicated partitions: b-1",
    ]
    healthy = dict(summary, brokers=[{}] * 3, controller_id=1, offline_partitions=[])
    assert kafka_admin.health_problems(healthy, 3, fully_replicated=False) == []


def test_cluster_info_waits_for_health_and_fails_at_its_bound(admin, run_module):
    admin.brokers = (1, 2, 3)
    admin.topics["lagging"] = {"partitions": 1, "replication_factor": 3, "config": {}, "under_replicated": True}
    outcome, result = run_module(
        kafka_cluster_info.main, {"wait_timeout": 3, "expected_brokers": 3, "fully_replicated": True}
    )
    assert outcome == "fail" and "not healthy after 3 s" in result["msg"]
    assert "under-replicated partitions: lagging-0" in result["msg"] and result["waited"] <= 3.5
    outcome, result = run_module(kafka_cluster_info.main, {"wait_timeout": 3, "expected_brokers": 3})
    assert outcome == "exit" and result["problems"] == []


def test_wait_for_health_bounds_every_request_by_the_time_left(monkeypatch):
    now = [0.0]
    timeouts = []

    def unreachable(params, timeout):
        timeouts.append(timeout)
        now[0] += timeout  # the request waits out its own timeout
        raise kafka_admin.KafkaError("NoBrokersAvailable")

    monkeypatch.setattr(kafka_cluster_info, "read_summary", unreachable)
    params = {"wait_timeout": 45, "timeout": 30, "expected_brokers": 3, "fully_replicated": True}
    summary, problems, waited = kafka_cluster_info.wait_for_health(
        params, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    assert summary is None and "NoBrokersAvailable" in problems[0]
    assert timeouts[0] == 30 and timeouts[1] == 13 and waited <= 45


def test_cluster_info_checks_the_controller_quorum(admin, run_module):
    admin.brokers = (1, 2, 3)
    admin.topics = {}
    offsets = {1: 500, 2: 500, 3: 120}

    def quorum():
        voters = [{"replica_id": node, "log_end_offset": end} for node, end in offsets.items()]
        return {"topics": [{"partitions": [{"leader_id": 1, "high_watermark": 500, "current_voters": voters}]}]}

    admin.describe_metadata_quorum = quorum
    args = {"wait_timeout": 3, "expected_brokers": 3, "max_quorum_lag": 100}
    outcome, result = run_module(kafka_cluster_info.main, args)
    assert outcome == "fail" and "behind the leader by more than 100 records: 3 (380)" in result["msg"]
    offsets[3] = 450
    outcome, result = run_module(kafka_cluster_info.main, args)
    assert outcome == "exit" and result["quorum"]["voters"][2] == {"node_id": 3, "log_end_offset": 450, "lag": 50}
    del offsets[3]
    outcome, result = run_module(kafka_cluster_info.main, dict(args, wait_timeout=0))
    assert outcome == "exit" and "2 of 3 quorum voters" in result["problems"]


def test_cluster_info_counts_voters_apart_from_broker_only_nodes(admin, run_module):
    admin.brokers = (1, 2, 3, 4)
    admin.topics = {}

    def quorum():
        voters = [{"replica_id": node, "log_end_offset": 500} for node in (1, 2, 3)]
        return {"topics": [{"partitions": [{"leader_id": 1, "high_watermark": 500, "current_voters": voters}]}]}

    admin.describe_metadata_quorum = quorum
    args = {"wait_timeout": 0, "expected_brokers": 4, "max_quorum_lag": 100}
    outcome, result = run_module(kafka_cluster_info.main, args)
    assert outcome == "exit" and result["problems"] == ["3 of 4 quorum voters"]
    outcome, result = run_module(kafka_cluster_info.main, dict(args, expected_voters=3))
    assert outcome == "exit" and result["problems"] == []
