#!/usr/bin/env python3
"""Leave a Kafka consumer group behind: produce messages to a topic, consume a few of them under
a group, commit, and stop - the group's lag is then (produced - consumed).

  kafka_lagging_group.py --bootstrap HOST:PORT[,...] --topic T --group G --produce N --consume M

Prints {"produced": N, "consumed": M, "lag": N - M} (the lag at commit time). The producer's and
the consumer's logins are kafka-python settings as JSON in KAFKA_PRODUCER_OPTIONS and
KAFKA_CONSUMER_OPTIONS.
"""

import argparse
import json
import os

from kafka import KafkaConsumer, KafkaProducer


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--group", required=True)
    parser.add_argument("--produce", type=int, required=True)
    parser.add_argument("--consume", type=int, required=True)
    args = parser.parse_args()
    bootstrap = args.bootstrap.split(",")

    producer = KafkaProducer(
        bootstrap_servers=bootstrap, acks="all", **json.loads(os.environ["KAFKA_PRODUCER_OPTIONS"])
    )
    for number in range(args.produce):
        producer.send(args.topic, f"lagging-{number}".encode())
    producer.flush(timeout=60)
    producer.close()

    consumer = KafkaConsumer(
        args.topic,
        bootstrap_servers=bootstrap,
        group_id=args.group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        max_poll_records=args.consume,
        consumer_timeout_ms=30000,
        **json.loads(os.environ["KAFKA_CONSUMER_OPTIONS"]),
    )
    consumed = 0
    for _record in consumer:
        consumed += 1
        if consumed >= args.consume:
            break
    consumer.commit()
    consumer.close()
    print(json.dumps({"produced": args.produce, "consumed": consumed, "lag": args.produce - consumed}))


if __name__ == "__main__":
    main()
