"""The CDC stream's pure parts (roles/cdc/files/cdc_stream.py): Debezium's schema to table columns,
the GTID order, the Kafka source's options. The merge itself runs on Spark in molecule's CDC check."""

import importlib.util
import json
import sys
import types
from pathlib import Path

import pytest

STREAM = Path(__file__).resolve().parents[2] / "roles/cdc/files/cdc_stream.py"


@pytest.fixture(scope="module")
def stream():
    # pyspark is not in the controller's virtualenv: the functions tested here do not touch it
    fake = {
        name: types.ModuleType(name)
        for name in ("pyspark", "pyspark.sql", "pyspark.sql.functions", "pyspark.sql.types")
    }
    fake["pyspark.sql"].SparkSession = fake["pyspark.sql"].Window = object
    fake["pyspark.sql"].functions, fake["pyspark.sql"].types = fake["pyspark.sql.functions"], fake["pyspark.sql.types"]
    saved = {name: sys.modules.get(name) for name in fake}
    sys.modules.update(fake)
    try:
        spec = importlib.util.spec_from_file_location("cdc_stream", STREAM)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        for name, previous in saved.items():
            if previous is None:
                sys.modules.pop(name, None)
            else:
                sys.modules[name] = previous


ENVELOPE_SCHEMA = {
    "type": "struct",
    "fields": [
        {
            "field": "before",
            "type": "struct",
            "fields": [
                {"field": "id", "type": "int32"},
                {"field": "item", "type": "string"},
                {"field": "amount", "type": "string"},
                {"field": "sold", "type": "int32", "name": "org.apache.kafka.connect.data.Date"},
                {"field": "at", "type": "int64", "name": "org.apache.kafka.connect.data.Timestamp"},
                {"field": "big", "type": "int64"},
                {"field": "blob", "type": "bytes"},
            ],
        },
        {"field": "after", "type": "struct", "fields": []},
        {"field": "op", "type": "string"},
    ],
}


def test_columns_and_types_come_from_the_envelope_schema(stream):
    assert stream.after_fields(ENVELOPE_SCHEMA) == [
        ("id", "INT"),
        ("item", "STRING"),
        ("amount", "STRING"),
        ("sold", "DATE"),
        ("at", "TIMESTAMP"),
        ("big", "BIGINT"),
        ("blob", "BINARY"),
    ]
    with pytest.raises(ValueError, match="not a Debezium envelope"):
        stream.after_fields({"fields": [{"field": "payload", "type": "string"}]})


def test_changes_are_ordered_by_the_gtid_sequence(stream):
    assert stream.gtid_seq("1-1-1234") == 1234
    assert stream.gtid_seq("0-101-7") == 7
    # snapshot records carry no GTID: older than every streamed change
    assert stream.gtid_seq(None) == 0 and stream.gtid_seq("") == 0


def test_only_plain_identifiers_are_quoted(stream):
    assert stream.quote("qty") == "`qty`" and stream.quote("a$b_1") == "`a$b_1`"
    for bad in ("a`b", "a b", "x;DROP", ""):
        with pytest.raises(ValueError, match="unexpected column name"):
            stream.quote(bad)


def test_the_kafka_source_logs_in_with_the_client_properties(stream, tmp_path):
    properties = tmp_path / "client.properties"
    properties.write_text('# login\nsecurity.protocol=SASL_SSL\nsasl.jaas.config=X required password="a=b";\n\n')
    config = {
        "bootstrap_servers": ["k1:9092", "k2:9092"],
        "tables": [{"topic": "cdc.a.t1"}, {"topic": "cdc.a.t2"}],
        "group_id_prefix": "cdc-stream",
        "client_properties": str(properties),
        "max_offsets_per_trigger": 500,
    }
    options = stream.kafka_options(config)
    assert options["kafka.bootstrap.servers"] == "k1:9092,k2:9092"
    assert options["subscribe"] == "cdc.a.t1,cdc.a.t2"
    assert options["groupIdPrefix"] == "cdc-stream" and options["maxOffsetsPerTrigger"] == "500"
    assert options["kafka.security.protocol"] == "SASL_SSL"
    assert options["kafka.sasl.jaas.config"] == 'X required password="a=b";'
    assert options["failOnDataLoss"] == "true" and options["startingOffsets"] == "earliest"
    json.dumps(options)


def test_progress_is_reported_as_json_and_gauges(stream, tmp_path):
    progress = {
        "timestamp": "2026-12-07T21:30:05.250Z",
        "batchId": 7,
        "numInputRows": 120,
        "sources": [{"metrics": {"maxOffsetsBehindLatest": "42"}}, {"metrics": {"maxOffsetsBehindLatest": "3"}}],
    }
    stream.report_progress(progress, str(tmp_path / "progress.json"), str(tmp_path / "stream.prom"))
    assert json.loads((tmp_path / "progress.json").read_text()) == progress
    gauges = dict(
        line.split() for line in (tmp_path / "stream.prom").read_text().splitlines() if not line.startswith("#")
    )
    assert gauges["datalake_cdc_stream_batch_id"] == "7"
    assert gauges["datalake_cdc_stream_input_rows"] == "120"
    assert gauges["datalake_cdc_stream_offsets_behind_latest"] == "42"
    assert float(gauges["datalake_cdc_stream_progress_timestamp_seconds"]) == 1796679005.25
    assert not list(tmp_path.glob("*.tmp"))
    assert stream.offsets_behind({"sources": []}) == 0
