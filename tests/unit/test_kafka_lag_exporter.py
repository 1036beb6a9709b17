"""The kafka role's consumer-lag exporter (roles/kafka/files/kafka-lag-exporter.py): lag per
partition and group, and its Prometheus text."""

import importlib.util
import sys
from collections import namedtuple
from pathlib import Path
from types import SimpleNamespace

SPEC = importlib.util.spec_from_file_location(
    "kafka_lag_exporter", Path(__file__).resolve().parents[2] / "roles/kafka/files/kafka-lag-exporter.py"
)
exporter = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(exporter)


def test_lag_is_the_end_offset_minus_the_committed_one():
    committed = {("etl", "orders", 0): 90, ("etl", "orders", 1): 100, ("late", "orders", 0): 10, ("gone", "old", 0): 5}
    ends = {("orders", 0): 100, ("orders", 1): 100}
    assert exporter.lags(committed, ends) == {
        ("etl", "orders", 0): 10,
        ("etl", "orders", 1): 0,
        ("late", "orders", 0): 90,
    }


def test_a_group_without_a_commit_or_ahead_of_a_truncated_log_reads_no_negative_lag():
    assert exporter.lags({("g", "t", 0): -1, ("g", "t", 1): 120}, {("t", 0): 50, ("t", 1): 100}) == {("g", "t", 1): 0}


def test_render_sums_per_group_and_escapes_labels():
    text = exporter.render({("etl", "orders", 0): 10, ("etl", "orders", 1): 5, ('we"ird', "t", 0): 1}, up=True)
    assert "kafka_lag_exporter_up 1\n" in text
    assert 'kafka_consumergroup_lag{group="etl",topic="orders",partition="0"} 10\n' in text
    assert 'kafka_consumergroup_lag_sum{group="etl"} 15\n' in text
    assert 'kafka_consumergroup_lag_sum{group="we\\"ird"} 1\n' in text


def test_a_failed_read_reports_down_and_no_lag():
    text = exporter.render({}, up=False)
    assert "kafka_lag_exporter_up 0" in text
    assert "kafka_consumergroup_lag" not in text.replace("kafka_lag_exporter_up", "")


def test_read_offsets_asks_kafka_python_3_for_every_group_and_the_end_offsets(monkeypatch):
    """The calls as kafka-python 3 names them (list_groups, list_group_offsets), on a fake client."""
    partition = namedtuple("TopicPartition", "topic partition")
    committed = SimpleNamespace(offset=40)

    class Admin:
        def __init__(self, **_kwargs):
            pass

        def list_groups(self):
            return [{"group_id": "etl", "protocol_type": "consumer"}]

        def list_group_offsets(self, group_specs):
            assert group_specs == {"etl": None}
            return {"etl": {partition("orders", 0): committed}}

        def close(self):
            pass

    class Consumer(Admin):
        def end_offsets(self, partitions):
            return dict.fromkeys(partitions, 100)

    fake = SimpleNamespace(KafkaAdminClient=Admin, KafkaConsumer=Consumer, TopicPartition=partition)
    monkeypatch.setitem(sys.modules, "kafka", fake)
    assert exporter.read_offsets(["broker:9092"]) == ({("etl", "orders", 0): 40}, {("orders", 0): 100})
