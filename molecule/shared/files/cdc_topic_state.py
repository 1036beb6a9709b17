#!/usr/bin/env python3
"""Replay a Debezium change topic from its start and compare the table it describes with the
source's rows.

  cdc_topic_state.py --bootstrap HOST:PORT[,...] --topic T --key COLUMN --timeout SECONDS < rows.json

stdin: the source table's rows as a JSON list of objects (what the source holds now). The topic's
records (JSON with schemas: {"schema": ..., "payload": {"before", "after", "op", ...}}, keyed by
the primary key, tombstones after deletes) are applied in offset order - create, read (snapshot)
and update put the row after the change, delete removes it - until the replayed table equals the
source's rows or the timeout passes. Prints {"matches", "events", "ops", "missing", "unexpected",
"different", "columns"} and exits 0 only when they match. The consumer's login is kafka-python
settings as JSON in KAFKA_CONSUMER_OPTIONS; it reads without a group (nothing is committed).
"""

import argparse
import json
import os
import sys
import time

from kafka import KafkaConsumer, TopicPartition


def normalized(row):
    return {column: None if value is None else str(value) for column, value in row.items()}


def compare(replayed, source):
    """Rows missing, unexpected and different, on the source's columns (a row last changed before
    a column was added has no value for it in the topic: NULL, as at the source)."""
    missing = sorted(set(source) - set(replayed))
    unexpected = sorted(set(replayed) - set(source))
    different = sorted(
        key
        for key in set(source) & set(replayed)
        if any(replayed[key].get(column) != value for column, value in source[key].items())
    )
    return missing, unexpected, different


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args()
    source = {str(row[args.key]): normalized(row) for row in json.load(sys.stdin)}

    consumer = KafkaConsumer(
        bootstrap_servers=args.bootstrap.split(","),
        enable_auto_commit=False,
        consumer_timeout_ms=1000,
        **json.loads(os.environ["KAFKA_CONSUMER_OPTIONS"]),
    )
    deadline = time.monotonic() + args.timeout
    partitions = None
    while partitions is None and time.monotonic() < deadline:
        found = consumer.partitions_for_topic(args.topic)
        if found:
            partitions = [TopicPartition(args.topic, number) for number in sorted(found)]
        else:
            time.sleep(0.5)
    replayed, ops, events, columns = {}, {}, 0, []
    if partitions:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        while time.monotonic() < deadline:
            for record in consumer:
                if record.value is None:
                    continue  # the tombstone after a delete
                payload = json.loads(record.value)["payload"]
                events += 1
                ops[payload["op"]] = ops.get(payload["op"], 0) + 1
                if payload["op"] == "d":
                    replayed.pop(str(payload["before"][args.key]), None)
                else:
                    replayed[str(payload["after"][args.key])] = normalized(payload["after"])
                    columns = sorted(payload["after"])
            if not any(compare(replayed, source)):
                break
    consumer.close()
    missing, unexpected, different = compare(replayed, source)
    matches = partitions is not None and not (missing or unexpected or different)
    print(
        json.dumps(
            {
                "matches": matches,
                "events": events,
                "ops": ops,
                "missing": missing,
                "unexpected": unexpected,
                "different": {key: {"topic": replayed[key], "source": source[key]} for key in different},
                "columns": columns,
            }
        )
    )
    return 0 if matches else 1


if __name__ == "__main__":
    sys.exit(main())
