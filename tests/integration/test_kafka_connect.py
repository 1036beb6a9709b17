"""Kafka Connect on a lab node: the worker runs as its own user with Debezium's MariaDB plugin
loaded, its group is ready, its settings hold references instead of logins, its secrets are the
worker's group's only - and its principal and the CDC stream's may do only what Connect and the
stream need (Kafka ACLs, tried with their real logins)."""

import json

from test_kafka import login, run_client

REST = "http://{ip}:8083"

# Each attempt reports the name of the error that stopped it ("ok" if nothing did).
ATTEMPTS = r"""
import json, os
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
login = {name: json.loads(os.environ[name.upper()]) for name in ("connect", "stream")}
def attempt(action):
    try:
        action()
        return "ok"
    except Exception as error:
        return type(error).__name__
def produce(who, topic):
    def action():
        producer = KafkaProducer(bootstrap_servers="127.0.0.1:9092", max_block_ms=10000, enable_idempotence=False,
                                 **login[who])
        producer.send(topic, b"attempt").get(timeout=10)
        producer.close()
    return action
def consume(who, topic):
    def action():
        consumer = KafkaConsumer(bootstrap_servers="127.0.0.1:9092", **login[who])
        consumer.assign([TopicPartition(topic, 0)])
        consumer.seek_to_beginning()
        records = consumer.poll(timeout_ms=5000) or consumer.poll(timeout_ms=5000)
        consumer.close()
        if not records:
            raise RuntimeError("no record and no error")
    return action
print(json.dumps({
    "connect_writes_a_foreign_topic": attempt(produce("connect", "molecule.events")),
    "connect_reads_a_foreign_topic": attempt(consume("connect", "molecule.events")),
    "connect_reads_its_config_topic": attempt(consume("connect", "datalake-connect-configs")),
    "stream_writes_a_foreign_topic": attempt(produce("stream", "molecule.events")),
    "stream_reads_a_foreign_topic": attempt(consume("stream", "molecule.events")),
}))
"""


def test_worker_runs_as_its_own_user_with_the_debezium_plugin(host, node):
    service = host.service("kafka-connect")
    assert service.is_running and service.is_enabled
    assert host.process.get(comm="java", user="kafka-connect")
    assert host.socket("tcp://0.0.0.0:8083").is_listening
    health = host.run(f"curl -sf {REST.format(**node)}/health")
    assert health.rc == 0 and json.loads(health.stdout)["status"] == "healthy", health.stdout
    plugins = json.loads(host.check_output(f"curl -sf {REST.format(**node)}/connector-plugins"))
    assert "io.debezium.connector.mariadb.MariaDbConnector" in [plugin["class"] for plugin in plugins]


def test_settings_hold_references_not_logins(host):
    settings = host.file("/etc/kafka-connect/connect-distributed.properties")
    assert (settings.user, settings.group, settings.mode) == ("root", "kafka-connect", 0o640)
    text = settings.content_string
    assert "sasl.jaas.config=${file:/etc/kafka-connect/secrets/worker.properties:login}" in text
    assert "password=" not in text.replace("${file:", "")
    assert "config.providers.file.param.allowed.paths=/etc/kafka-connect/secrets" in text
    assert "connector.client.config.override.policy=None" in text
    secrets = host.file("/etc/kafka-connect/secrets/worker.properties")
    assert (secrets.user, secrets.group, secrets.mode) == ("root", "kafka-connect", 0o640)
    assert host.file("/etc/kafka-connect/secrets").mode == 0o750


def test_connect_and_the_stream_may_do_only_their_work(host):
    outcomes = run_client(
        host, ATTEMPTS, connect=login("connect", "kafka_connect"), stream=login("cdc_stream", "kafka_cdc_stream")
    )
    assert outcomes["connect_reads_its_config_topic"] == "ok", outcomes
    assert outcomes["connect_writes_a_foreign_topic"] == "TopicAuthorizationFailedError", outcomes
    # kafka-python reads nothing from a topic it may not describe, and raises nothing
    assert outcomes["connect_reads_a_foreign_topic"] in ("TopicAuthorizationFailedError", "RuntimeError"), outcomes
    assert outcomes["stream_writes_a_foreign_topic"] == "TopicAuthorizationFailedError", outcomes
    assert outcomes["stream_reads_a_foreign_topic"] in ("TopicAuthorizationFailedError", "RuntimeError"), outcomes
