"""The kafka_connect role's settings check (roles/kafka_connect/files/check_connect_properties.py)."""

import importlib.util
from pathlib import Path

CHECKER = Path(__file__).resolve().parents[2] / "roles/kafka_connect/files/check_connect_properties.py"
SPEC = importlib.util.spec_from_file_location("check_connect_properties", CHECKER)
check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check)

GOOD = """# a comment
bootstrap.servers=a:9092,b:9092
group.id=datalake-connect
config.storage.topic=datalake-connect-configs
offset.storage.topic=datalake-connect-offsets
status.storage.topic=datalake-connect-status
config.storage.replication.factor=3
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
plugin.path=/opt/kafka-connect/plugins
listeners=http://0.0.0.0:8083
sasl.jaas.config=${file:/etc/kafka-connect/secrets/worker.properties:login}
producer.sasl.jaas.config=${file:/etc/kafka-connect/secrets/worker.properties:login}
"""


def test_good_settings_pass():
    assert check.problems(GOOD) == []


def test_a_written_out_login_is_refused():
    login = 'consumer.sasl.jaas.config=ScramLoginModule required password="s3cret";\n'
    errors = check.problems(GOOD + login + "ssl.key.password=x\n")
    assert errors == [
        "line 14: consumer.sasl.jaas.config must be a ${file:...} reference, not the secret itself",
        "line 15: ssl.key.password must be a ${file:...} reference, not the secret itself",
    ]


def test_missing_repeated_and_bad_settings_are_named():
    text = GOOD.replace("group.id=datalake-connect\n", "").replace("=3\n", "=0\n") + "listeners=x\njunk\n"
    text = text.replace("datalake-connect-status", "datalake-connect-configs")
    errors = check.problems(text)
    assert "line 6: config.storage.replication.factor must be a positive number" in errors
    assert "line 14: not key=value" in errors
    assert "missing group.id" in errors
    assert "listeners given twice (lines [10, 13])" in errors
    assert "the config, offset and status topics must be three different topics" in errors
