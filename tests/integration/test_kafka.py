"""Kafka on a lab node: KRaft storage formatted once, the managed topic as declared, and a real
produce/consume round trip with acks=all through the tools virtualenv's kafka-python."""

import json
import shlex

CLIENT = "/opt/datalake/venv/bin/python"

ROUND_TRIP = r"""
import json, uuid
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
admin = KafkaAdminClient(bootstrap_servers="127.0.0.1:9092")
topic = admin.describe_topics(["molecule.events"])[0]
configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "molecule.events")], config_filter="all")
run = uuid.uuid4().hex
consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9092", enable_auto_commit=False)
parts = [TopicPartition("molecule.events", p) for p in range(len(topic["partitions"]))]
consumer.assign(parts)
for part, offset in consumer.end_offsets(parts).items():
    consumer.seek(part, offset)
producer = KafkaProducer(bootstrap_servers="127.0.0.1:9092", acks="all")
for i in range(200):
    producer.send("molecule.events", f"{run}:{i}".encode()).get(timeout=30)
producer.close()
seen = set()
for _ in range(30):
    for records in consumer.poll(timeout_ms=1000).values():
        seen.update(r.value.decode() for r in records if r.value.decode().startswith(run))
    if len(seen) == 200:
        break
print(json.dumps({"partitions": len(topic["partitions"]),
                  "retention": configs["topic"]["molecule.events"]["retention.ms"]["value"],
                  "received": len(seen)}))
"""


def test_service_running_as_kafka(host):
    service = host.service("kafka")
    assert service.is_running and service.is_enabled
    assert host.process.get(comm="java", user="kafka")
    for port in (9092, 9093):
        assert host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_storage_formatted_once_with_a_cluster_id(host):
    meta = host.file("/var/lib/kafka/data/meta.properties")
    assert meta.exists and meta.user == "kafka"
    cluster_ids = [line.split("=", 1)[1] for line in meta.content_string.splitlines() if line.startswith("cluster.id=")]
    assert len(cluster_ids) == 1 and len(cluster_ids[0]) == 22


def test_topic_as_declared_and_round_trip(host):
    result = host.run(f"{CLIENT} -c {shlex.quote(ROUND_TRIP)}")
    assert result.rc == 0, result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures == {"partitions": 2, "retention": "3600000", "received": 200}


def test_config_is_kraft_combined_mode(host, node):
    config = host.file("/etc/kafka/server.properties").content_string
    assert "process.roles=broker,controller" in config
    assert f"controller.quorum.voters=1@{node['name']}:9093" in config
    assert "auto.create.topics.enable=false" in config
