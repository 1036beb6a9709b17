"""Kafka on a lab node: KRaft storage formatted once, the managed topic as declared, a real
produce/consume round trip with acks=all through the tools virtualenv's kafka-python, logged in
as the lab's producer and consumer (SASL/SCRAM) - and what a client without the right login or
ACL is refused."""

import json
import os
import shlex
from pathlib import Path

CLIENT = "/opt/datalake/venv/bin/python"
CA_FILE = "/etc/datalake/tls/ca.crt"
CLIENT_SETTINGS = {"security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "ssl_cafile": CA_FILE}


def login(user, secret_name):
    password = Path(os.environ["DLFB_ROOT"], ".lab/secrets", secret_name).read_text().strip()
    return dict(CLIENT_SETTINGS, sasl_plain_username=user, sasl_plain_password=password)


def run_client(host, program, **logins):
    """Run a kafka-python program on the node with the logins as JSON in its environment; return
    its last line of output as JSON."""
    env = " ".join(f"{name.upper()}={shlex.quote(json.dumps(value))}" for name, value in logins.items())
    result = host.run(f"{env} {CLIENT} -c {shlex.quote(program)}")
    assert result.rc == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


ROUND_TRIP = r"""
import json, os, uuid
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType
login = {name: json.loads(os.environ[name.upper()]) for name in ("admin", "producer", "consumer")}
admin = KafkaAdminClient(bootstrap_servers="127.0.0.1:9092", **login["admin"])
topic = admin.describe_topics(["molecule.events"])[0]
configs = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, "molecule.events")], config_filter="all")
run = uuid.uuid4().hex
consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9092", enable_auto_commit=False, **login["consumer"])
parts = [TopicPartition("molecule.events", p) for p in range(len(topic["partitions"]))]
consumer.assign(parts)
for part, offset in consumer.end_offsets(parts).items():
    consumer.seek(part, offset)
producer = KafkaProducer(bootstrap_servers="127.0.0.1:9092", acks="all", **login["producer"])
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

# Each attempt reports the name of the error that stopped it ("ok" if nothing did). kafka-python
# retries a refused login until its bootstrap times out and only logs the refusal: a logged
# SaslAuthenticationFailedError is what stopped it then.
REFUSALS = r"""
import json, logging, os
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
login = {name: json.loads(os.environ[name.upper()]) for name in ("producer", "consumer", "wrong")}
logged = []
class Logged(logging.Handler):
    def emit(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        logged.extend(type(arg).__name__ for arg in args if isinstance(arg, Exception))
logging.getLogger("kafka").addHandler(Logged(logging.WARNING))
def attempt(action):
    logged.clear()
    try:
        action()
        return "ok"
    except Exception as error:
        refused = "SaslAuthenticationFailedError" in logged
        return "SaslAuthenticationFailedError" if refused else type(error).__name__
QUICK = {"bootstrap_servers": "127.0.0.1:9092", "request_timeout_ms": 5000, "bootstrap_timeout_ms": 8000}
def anonymous():
    # TLS, but no login
    KafkaAdminClient(**QUICK, security_protocol="SSL", ssl_cafile=login["producer"]["ssl_cafile"]).list_topics()
def wrong_password():
    # the refusal is only logged and retried until the bootstrap times out: on a loaded node the
    # TLS handshake and SCRAM exchange once took longer than QUICK's 8 s, so the bound is wider
    KafkaAdminClient(**dict(QUICK, bootstrap_timeout_ms=20000), **login["wrong"]).list_topics()
def consumer_produces():
    # not idempotent: an idempotent producer is stopped earlier, by its producer id request
    producer = KafkaProducer(bootstrap_servers="127.0.0.1:9092", max_block_ms=10000, enable_idempotence=False,
                             **login["consumer"])
    producer.send("molecule.events", b"not allowed").get(timeout=10)
def producer_consumes():
    consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9092", **login["producer"])
    consumer.assign([TopicPartition("molecule.events", 0)])
    consumer.seek_to_beginning()
    consumer.poll(timeout_ms=5000)
    records = consumer.poll(timeout_ms=5000)
    consumer.close()
    if not records:
        raise RuntimeError("no record and no error")
def consumer_foreign_group():
    consumer = KafkaConsumer("molecule.events", bootstrap_servers="127.0.0.1:9092", group_id="someone-elses",
                             consumer_timeout_ms=10000, **login["consumer"])
    next(iter(consumer), None)
print(json.dumps({name: attempt(action) for name, action in [
    ("anonymous", anonymous), ("wrong_password", wrong_password), ("consumer_produces", consumer_produces),
    ("producer_consumes", producer_consumes), ("consumer_foreign_group", consumer_foreign_group)]}))
"""


def test_service_running_as_kafka(host):
    service = host.service("kafka")
    assert service.is_running and service.is_enabled
    assert host.process.get(comm="java", user="kafka")
    for port in (9092, 9093, 9094):
        assert host.socket(f"tcp://0.0.0.0:{port}").is_listening


def test_storage_formatted_once_with_a_cluster_id(host):
    meta = host.file("/var/lib/kafka/data/meta.properties")
    assert meta.exists and meta.user == "kafka"
    cluster_ids = [line.split("=", 1)[1] for line in meta.content_string.splitlines() if line.startswith("cluster.id=")]
    assert len(cluster_ids) == 1 and len(cluster_ids[0]) == 22


def test_topic_as_declared_and_round_trip(host):
    figures = run_client(
        host,
        ROUND_TRIP,
        admin=login("admin", "kafka_admin"),
        producer=login("lab_producer", "kafka_lab_producer"),
        consumer=login("lab_consumer", "kafka_lab_consumer"),
    )
    assert figures == {"partitions": 2, "retention": "3600000", "received": 200}


def test_clients_without_the_right_login_or_acl_are_refused(host):
    producer = login("lab_producer", "kafka_lab_producer")
    outcomes = run_client(
        host,
        REFUSALS,
        producer=producer,
        consumer=login("lab_consumer", "kafka_lab_consumer"),
        wrong=dict(producer, sasl_plain_password="not-the-password-at-all"),
    )
    assert outcomes["wrong_password"] == "SaslAuthenticationFailedError", outcomes
    assert outcomes["consumer_produces"] == "TopicAuthorizationFailedError", outcomes
    assert outcomes["producer_consumes"] == "TopicAuthorizationFailedError", outcomes
    assert outcomes["consumer_foreign_group"] == "GroupAuthorizationFailedError", outcomes
    # a client without SASL gets no metadata from a SASL listener: kafka-python's bootstrap times out
    assert outcomes["anonymous"] == "KafkaTimeoutError", outcomes


def test_config_is_kraft_combined_mode(host, node):
    config = host.file("/etc/kafka/server.properties").content_string
    assert "process.roles=broker,controller" in config
    assert f"controller.quorum.voters=1@{node['name']}:9093" in config
    assert "auto.create.topics.enable=false" in config
    assert "listener.security.protocol.map=CLIENT:SASL_SSL,INTERNAL:SASL_PLAINTEXT,CONTROLLER:SASL_PLAINTEXT" in config
    assert "authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer" in config


def test_logins_are_root_or_kafka_only(host):
    for path, owner, group, mode in [
        ("/etc/kafka/server.properties", "root", "kafka", 0o640),
        ("/etc/kafka/admin-client.properties", "root", "root", 0o600),
    ]:
        found = host.file(path)
        assert (found.user, found.group, found.mode) == (owner, group, mode), path
