"""CDC capture latency and throughput (the seed's T6.1.11/T6.1.12): a writer commits rows into a
captured MariaDB table, each carrying the microsecond time it was written (one clock: this host's),
while a reader takes the change topic's records; a record's capture latency is the time it is read
minus the time in its row (binlog timestamps have whole seconds only).

  cdc_bench.py --socket /run/mysqld/mysqld.sock --table cdc_bench.events --bootstrap H:P[,...] \
      --topic cdc.cdc_bench.events --phase low:10:30 --phase high:1000:30

A phase name:rate:seconds writes `rate` rows a second (one per transaction, autocommit) for
`seconds`; the reader waits for every row. Prints JSON: per phase the rows written and read, the
rate sustained, capture latency p50/p95/p99/max in ms, and the first and last write times (for the
Iceberg freshness the playbook measures). The reader's login is kafka-python settings as JSON in
KAFKA_CONSUMER_OPTIONS; it reads without a group.
"""

import argparse
import json
import os
import threading
import time

import pymysql
from kafka import KafkaConsumer, TopicPartition


def now_us():
    return time.time_ns() // 1000


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def write_phase(connection, table, first_id, rate, seconds):
    """Rows first_id.. at `rate` a second for `seconds`, paced against the clock (no drift)."""
    cursor = connection.cursor()
    # the table name is the playbook's (a checked identifier), the values are parameters
    statement = f"INSERT INTO {table} (id, written_us, payload) VALUES (%s, %s, %s)"  # noqa: S608
    started = time.monotonic()
    count = int(rate * seconds)
    for number in range(count):
        due = started + number / rate
        delay = due - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        cursor.execute(statement, (first_id + number, now_us(), "x" * 64))
    return count, time.monotonic() - started


class Reader(threading.Thread):
    """Reads the change topic from its end and records, per row id, the capture latency."""

    def __init__(self, bootstrap, topic, options):
        super().__init__(daemon=True)
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **options)
        partitions = None
        deadline = time.monotonic() + 120
        while not partitions and time.monotonic() < deadline:
            partitions = self.consumer.partitions_for_topic(topic)
            if not partitions:
                time.sleep(0.5)
        if not partitions:
            raise SystemExit(f"topic {topic} did not appear")
        self.parts = [TopicPartition(topic, number) for number in sorted(partitions)]
        self.consumer.assign(self.parts)
        self.consumer.seek_to_end(*self.parts)
        for part in self.parts:
            self.consumer.position(part)
        self.latency_ms = {}
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            for records in self.consumer.poll(timeout_ms=200).values():
                read_at = now_us()
                for record in records:
                    if record.value is None:
                        continue
                    payload = json.loads(record.value)["payload"]
                    row = payload.get("after")
                    if payload.get("op") in ("c", "r") and row:
                        self.latency_ms[row["id"]] = (read_at - row["written_us"]) / 1000.0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True)
    parser.add_argument("--table", required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--phase", action="append", required=True, help="name:rate:seconds")
    parser.add_argument("--drain", type=float, default=60, help="seconds to wait for the last records")
    args = parser.parse_args()

    reader = Reader(args.bootstrap.split(","), args.topic, json.loads(os.environ["KAFKA_CONSUMER_OPTIONS"]))
    reader.start()
    connection = pymysql.connect(unix_socket=args.socket, user="root", autocommit=True)
    results, first_id = {}, 1
    for phase in args.phase:
        name, rate, seconds = phase.split(":")
        started_us = now_us()
        written, elapsed = write_phase(connection, args.table, first_id, float(rate), float(seconds))
        ids = range(first_id, first_id + written)
        deadline = time.monotonic() + args.drain
        while time.monotonic() < deadline and any(row_id not in reader.latency_ms for row_id in ids):
            time.sleep(0.2)
        latencies = [reader.latency_ms[row_id] for row_id in ids if row_id in reader.latency_ms]
        results[name] = {
            "rows_written": written,
            "rows_read": len(latencies),
            "target_rows_per_second": float(rate),
            "sustained_rows_per_second": round(written / elapsed, 1),
            "latency_ms": {
                "p50": percentile(latencies, 0.50),
                "p95": percentile(latencies, 0.95),
                "p99": percentile(latencies, 0.99),
                "max": max(latencies, default=None),
            },
            "first_id": first_id,
            "last_id": first_id + written - 1,
            "started_us": started_us,
            "ended_us": now_us(),
        }
        first_id += written
    reader.stop.set()
    reader.join(timeout=5)
    connection.close()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
