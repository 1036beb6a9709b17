"""The CDC stream: Debezium's change topics (JSON with schemas) into Iceberg tables, one MERGE per
table and micro-batch, by primary key.

  spark-submit --jars <spark-sql-kafka jars> cdc_stream.py --config /etc/datalake/cdc/stream.json

The config (written by the cdc role) names the Kafka bootstrap servers, the consumer's login file
(kafka-python-free: Kafka's own client properties, read here and handed to Spark's Kafka source),
the checkpoint location on S3, the trigger interval, and the tables:
[{topic, iceberg_table, primary_key: [columns]}].

Delivery is at least once (Connect replays from its last committed offset after a crash, Spark
replays an unfinished batch), so each batch is reduced to the last change per key - in the
order the source committed them: the GTID's sequence number, then the topic offset - and merged
only where it is newer than what the table holds (the hidden column _cdc_seq). A replay is then
a no-op, a delete removes the row, and columns added at the source are added to the table before
the merge that first carries them.
"""

import argparse
import datetime
import json
import os
import re

from pyspark.sql import SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql import types as T

# Debezium's JSON schema types -> Spark SQL types (decimal.handling.mode=string: decimals are strings)
CONNECT_TYPES = {
    "int8": "TINYINT",
    "int16": "SMALLINT",
    "int32": "INT",
    "int64": "BIGINT",
    "float32": "FLOAT",
    "float64": "DOUBLE",
    "boolean": "BOOLEAN",
    "string": "STRING",
    "bytes": "BINARY",
}
# logical types of time.precision.mode=connect
LOGICAL_TYPES = {
    "org.apache.kafka.connect.data.Date": "DATE",
    "org.apache.kafka.connect.data.Timestamp": "TIMESTAMP",
}
SEQ_COLUMN = "_cdc_seq"
IDENTIFIER = re.compile(r"^[A-Za-z0-9_$]+$")


def column_type(field):
    return LOGICAL_TYPES.get(field.get("name")) or CONNECT_TYPES.get(field["type"], "STRING")


def typed(name, kind):
    """The column from its string form (what the batch holds) to its table type: Connect's dates
    are days and its timestamps milliseconds since the epoch, its bytes base64."""
    column = F.col(name)
    if kind == "DATE":
        return F.expr(f"date_add(DATE'1970-01-01', CAST({quote(name)} AS INT))").alias(name)
    if kind == "TIMESTAMP":
        return F.expr(f"timestamp_millis(CAST({quote(name)} AS BIGINT))").alias(name)
    if kind == "BINARY":
        return F.unbase64(column).alias(name)
    return column.cast(kind).alias(name)


def after_fields(schema):
    """The row's columns (name, SQL type) from a Debezium envelope's schema, in table order."""
    for part in schema["fields"]:
        if part["field"] in ("after", "before"):
            return [(field["field"], column_type(field)) for field in part["fields"]]
    raise ValueError("not a Debezium envelope: no before/after in the schema")


def gtid_seq(gtid):
    """The sequence number of a MariaDB GTID domain-server-seq (0 for snapshot records: no GTID)."""
    if not gtid:
        return 0
    return int(gtid.rsplit("-", 1)[-1])


def quote(name):
    if not IDENTIFIER.match(name):
        raise ValueError(f"unexpected column name {name!r}")
    return f"`{name}`"


def kafka_options(config):
    options = {
        "kafka.bootstrap.servers": ",".join(config["bootstrap_servers"]),
        "subscribe": ",".join(table["topic"] for table in config["tables"]),
        "startingOffsets": "earliest",
        "failOnDataLoss": "true",
        "groupIdPrefix": config["group_id_prefix"],
        "maxOffsetsPerTrigger": str(config.get("max_offsets_per_trigger", 100000)),
    }
    with open(config["client_properties"], encoding="utf-8") as handle:
        for raw in handle:
            line = raw.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                options["kafka." + key.strip()] = value.strip()
    return options


def ensure_table(spark, table, fields, keys):
    """Create the Iceberg table, or add the columns the source gained (never drop or retype)."""
    if not spark.catalog.tableExists(table):
        columns = ", ".join(f"{quote(name)} {kind}" for name, kind in fields)
        spark.sql(
            f"CREATE TABLE {table} ({columns}, {SEQ_COLUMN} BIGINT) USING iceberg "
            "TBLPROPERTIES ('format-version'='2', 'write.merge.mode'='merge-on-read', "
            "'write.update.mode'='merge-on-read', 'write.delete.mode'='merge-on-read')"
        )
        return
    known = {field.name.lower() for field in spark.table(table).schema.fields}
    for name, kind in fields:
        if name.lower() not in known:
            spark.sql(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {kind}")


def merge_batch(spark, batch, table_config):
    """Merge one table's changes of a micro-batch: the last change per key, newer than the table's."""
    table, keys = table_config["iceberg_table"], table_config["primary_key"]
    rows = batch.filter(F.col("topic") == table_config["topic"]).filter(F.col("value").isNotNull()).collect()
    if not rows:
        return 0
    envelopes = [(json.loads(row.value), row.offset) for row in rows]
    fields = after_fields(envelopes[-1][0]["schema"])
    ensure_table(spark, table, fields, keys)
    names = [name for name, _ in fields]
    records = []
    for envelope, offset in envelopes:
        payload = envelope["payload"]
        image = payload["before"] if payload["op"] == "d" else payload["after"]
        records.append(
            [None if image.get(name) is None else str(image.get(name)) for name in names]
            + [payload["op"], gtid_seq((payload.get("source") or {}).get("gtid")), offset]
        )
    schema = T.StructType(
        [T.StructField(name, T.StringType()) for name in names]
        + [
            T.StructField("_op", T.StringType()),
            T.StructField("_gtid_seq", T.LongType()),
            T.StructField("_offset", T.LongType()),
        ]
    )
    changes = spark.createDataFrame(records, schema)
    order = Window.partitionBy(*keys).orderBy(F.col("_gtid_seq").desc(), F.col("_offset").desc())
    latest = (
        changes.withColumn("_rank", F.row_number().over(order))
        .filter("_rank = 1")
        .select(
            *[typed(name, kind) for name, kind in fields],
            F.col("_op"),
            # the table's order: GTID sequence first; the offset breaks ties within a transaction
            (F.col("_gtid_seq") * F.lit(1 << 20) + F.col("_offset") % F.lit(1 << 20)).alias(SEQ_COLUMN),
        )
    )
    view = "cdc_changes_" + re.sub(r"[^A-Za-z0-9_]", "_", table)
    latest.createOrReplaceTempView(view)
    on = " AND ".join(f"t.{quote(key)} = s.{quote(key)}" for key in keys)
    columns = [*names, SEQ_COLUMN]
    assignments = ", ".join(f"t.{quote(name)} = s.{quote(name)}" for name in columns)
    inserted = ", ".join(quote(name) for name in columns)
    values = ", ".join(f"s.{quote(name)}" for name in columns)
    # every name in the statement is a checked identifier (quote(); the role checks the table names)
    spark.sql(
        f"""MERGE INTO {table} t USING {view} s ON {on}
            WHEN MATCHED AND s._op = 'd' AND s.{SEQ_COLUMN} >= t.{SEQ_COLUMN} THEN DELETE
            WHEN MATCHED AND s._op != 'd' AND s.{SEQ_COLUMN} >= t.{SEQ_COLUMN} THEN UPDATE SET {assignments}
            WHEN NOT MATCHED AND s._op != 'd' THEN INSERT ({inserted}) VALUES ({values})"""  # noqa: S608
    )
    return len(rows)


def offsets_behind(progress):
    """The most records any source partition is behind the latest offset (Spark's Kafka source metric)."""
    behind = [
        int((source.get("metrics") or {}).get("maxOffsetsBehindLatest", 0)) for source in progress.get("sources", [])
    ]
    return max(behind, default=0)


def report_progress(progress, progress_file, textfile):
    """The last micro-batch's progress as JSON (for the benchmark and the runbook) and as node
    exporter gauges (the stream-stalled alert), each file replaced atomically."""
    # the batch's own time (Spark reports idle intervals too): it stops moving when the query does
    reported = datetime.datetime.strptime(progress["timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ")
    gauges = {
        "datalake_cdc_stream_progress_timestamp_seconds": reported.replace(tzinfo=datetime.UTC).timestamp(),
        "datalake_cdc_stream_batch_id": progress.get("batchId", -1),
        "datalake_cdc_stream_input_rows": progress.get("numInputRows", 0),
        "datalake_cdc_stream_offsets_behind_latest": offsets_behind(progress),
    }
    lines = [f"# TYPE {name} gauge\n{name} {value}\n" for name, value in gauges.items()]
    for path, text in ((progress_file, json.dumps(progress)), (textfile, "".join(lines))):
        if path:
            temporary = f"{path}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(temporary, path)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    args = parser.parse_args()
    with open(args.config, encoding="utf-8") as handle:
        config = json.load(handle)
    spark = SparkSession.builder.appName(config.get("app_name", "datalake-cdc-stream")).getOrCreate()
    for table in config["tables"]:
        spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {table['iceberg_table'].rsplit('.', 1)[0]}")

    def apply(batch, batch_id):
        batch.persist()
        try:
            for table in config["tables"]:
                merge_batch(spark, batch, table)
        finally:
            batch.unpersist()

    source = spark.readStream.format("kafka").options(**kafka_options(config)).load()
    query = (
        source.selectExpr("topic", "CAST(value AS STRING) AS value", "offset")
        .writeStream.foreachBatch(apply)
        .option("checkpointLocation", config["checkpoint_location"])
        .trigger(processingTime=f"{config['trigger_seconds']} seconds")
        .queryName(config.get("app_name", "datalake-cdc-stream"))
        .start()
    )
    # the progress is reported after each trigger interval; a failed query raises here
    while not query.awaitTermination(config["trigger_seconds"]):
        if query.lastProgress:
            report_progress(query.lastProgress, config.get("progress_file"), config.get("textfile"))


if __name__ == "__main__":
    main()
