"""Kafka validation (the seed's T6.4.2 transport): produce messages with acks=all through
kafka-python, consume them all back, and compare counts and content.

Only this run's messages count (each carries the run id), and consumption starts at the
offsets the topic had before producing, so earlier runs' messages do not matter. Writes a JSON
list of checks ({name, passed, figure, unit, detail}) to --output. The producer's and the
consumer's logins are kafka-python settings as JSON in KAFKA_PRODUCER_OPTIONS and
KAFKA_CONSUMER_OPTIONS.
"""

import argparse
import hashlib
import json
import os
import time
import traceback
import uuid

from kafka import KafkaConsumer, KafkaProducer, TopicPartition


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", default="validation.events")
    parser.add_argument("--messages", type=int, default=10000)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    checks = []

    def check(name, passed, figure=None, unit=None, detail=None):
        checks.append({"name": name, "passed": bool(passed), "figure": figure, "unit": unit, "detail": detail})

    run_id = uuid.uuid4().hex
    try:
        consumer = KafkaConsumer(
            bootstrap_servers=args.bootstrap,
            enable_auto_commit=False,
            consumer_timeout_ms=int(args.timeout * 1000),
            **json.loads(os.environ["KAFKA_CONSUMER_OPTIONS"]),
        )
        partitions = [TopicPartition(args.topic, p) for p in sorted(consumer.partitions_for_topic(args.topic) or [])]
        if not partitions:
            raise RuntimeError(f"topic {args.topic} does not exist")
        consumer.assign(partitions)
        start_offsets = consumer.end_offsets(partitions)
        for partition, offset in start_offsets.items():
            consumer.seek(partition, offset)

        producer = KafkaProducer(
            bootstrap_servers=args.bootstrap,
            acks="all",
            linger_ms=5,
            retries=5,
            enable_idempotence=True,
            **json.loads(os.environ["KAFKA_PRODUCER_OPTIONS"]),
        )
        sent_digest = hashlib.sha256()
        started = time.monotonic()
        futures = []
        for seq in range(args.messages):
            value = json.dumps({"run": run_id, "seq": seq, "payload": f"event-{seq}"}, sort_keys=True).encode()
            sent_digest.update(value)
            futures.append(producer.send(args.topic, key=str(seq).encode(), value=value))
        producer.flush()
        acknowledged = sum(1 for future in futures if future.get(timeout=args.timeout))
        produce_seconds = time.monotonic() - started
        producer.close()
        check(
            "produce_acks_all",
            acknowledged == args.messages,
            round(args.messages / produce_seconds),
            "msg/s",
            f"{acknowledged}/{args.messages} acknowledged by all in-sync replicas in {produce_seconds:.2f} s",
        )

        received = {}
        started = time.monotonic()
        deadline = started + args.timeout
        while len(received) < args.messages and time.monotonic() < deadline:
            for records in consumer.poll(timeout_ms=1000).values():
                for record in records:
                    message = json.loads(record.value)
                    if message["run"] == run_id:
                        received.setdefault(message["seq"], []).append(record.value)
        consume_seconds = time.monotonic() - started
        consumer.close()
        duplicates = sum(len(values) - 1 for values in received.values())
        received_digest = hashlib.sha256()
        for seq in sorted(received):
            received_digest.update(received[seq][0])
        check(
            "consume_all",
            len(received) == args.messages and duplicates == 0,
            len(received),
            "messages",
            f"{len(received)}/{args.messages} received, {duplicates} duplicates, "
            f"{len(received) / consume_seconds:.0f} msg/s",
        )
        check(
            "content_matches",
            received_digest.hexdigest() == sent_digest.hexdigest(),
            None,
            None,
            f"sha256 sent {sent_digest.hexdigest()[:16]}, received {received_digest.hexdigest()[:16]}",
        )
    except Exception:  # noqa: BLE001 - any failure is a failed check with its traceback
        check("kafka_validation_completed", False, None, None, traceback.format_exc()[-2000:])
    with open(args.output, "w", encoding="utf-8") as handle:
        json.dump(checks, handle, indent=2)


if __name__ == "__main__":
    main()
