#!/usr/bin/env python3
"""Kafka consumer-group lag for Prometheus: on each scrape, every group's committed offsets
against the partitions' end offsets, in the Prometheus text format.

  KAFKA_CLIENT_OPTIONS='{"security_protocol": ..., "sasl_plain_username": ...}' \
  kafka-lag-exporter.py --listen ADDRESS:PORT --bootstrap HOST:PORT[,HOST:PORT...]

KAFKA_CLIENT_OPTIONS (JSON, optional): kafka-python settings of the exporter's login.

Served at /metrics: kafka_consumergroup_lag{group,topic,partition} (messages behind),
kafka_consumergroup_lag_sum{group}, and kafka_lag_exporter_up (0 when Kafka could not be read;
the lag series are left out then rather than reported as 0).
"""

import argparse
import json
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def lags(committed, ends):
    """{(group, topic, partition): lag} from committed {(group, topic, partition): offset} and
    end offsets {(topic, partition): offset}; a partition without an end offset is skipped."""
    result = {}
    for (group, topic, partition), offset in committed.items():
        end = ends.get((topic, partition))
        if end is not None and offset is not None and offset >= 0:
            result[(group, topic, partition)] = max(end - offset, 0)
    return result


def _label(value):
    return str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(lag_by_partition, up):
    """The Prometheus text exposition of the lags."""
    lines = [
        "# HELP kafka_lag_exporter_up Whether the last read of Kafka's offsets succeeded.",
        "# TYPE kafka_lag_exporter_up gauge",
        f"kafka_lag_exporter_up {1 if up else 0}",
    ]
    if not up:
        return "\n".join(lines) + "\n"
    lines += [
        "# HELP kafka_consumergroup_lag Messages a consumer group is behind on a partition.",
        "# TYPE kafka_consumergroup_lag gauge",
    ]
    totals = {}
    for (group, topic, partition), lag in sorted(lag_by_partition.items()):
        lines.append(
            f'kafka_consumergroup_lag{{group="{_label(group)}",topic="{_label(topic)}",partition="{partition}"}} {lag}'
        )
        totals[group] = totals.get(group, 0) + lag
    lines += [
        "# HELP kafka_consumergroup_lag_sum Messages a consumer group is behind on all its partitions.",
        "# TYPE kafka_consumergroup_lag_sum gauge",
    ]
    lines += [
        f'kafka_consumergroup_lag_sum{{group="{_label(group)}"}} {total}' for group, total in sorted(totals.items())
    ]
    return "\n".join(lines) + "\n"


def read_offsets(bootstrap):
    """Committed offsets of every consumer group, and the end offsets of their partitions."""
    from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition  # noqa: PLC0415 (the unit tests need no Kafka client)

    login = json.loads(os.environ.get("KAFKA_CLIENT_OPTIONS") or "{}")
    settings = dict(login, bootstrap_servers=bootstrap, client_id="datalake-lag-exporter", request_timeout_ms=5000)
    admin = KafkaAdminClient(**settings)
    consumer = KafkaConsumer(**settings)
    try:
        # kafka-python 3: list_groups gives dicts; list_group_offsets reads every group at once
        groups = [group["group_id"] for group in admin.list_groups()]
        offsets = admin.list_group_offsets(dict.fromkeys(groups)) if groups else {}
        committed = {
            (group, partition.topic, partition.partition): meta.offset
            for group, partitions in offsets.items()
            for partition, meta in partitions.items()
        }
        wanted = {(topic, part) for _group, topic, part in committed}
        ends = consumer.end_offsets([TopicPartition(topic, part) for topic, part in wanted]) if wanted else {}
        return committed, {(tp.topic, tp.partition): offset for tp, offset in ends.items()}
    finally:
        consumer.close()
        admin.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", required=True, help="address:port to serve /metrics on")
    parser.add_argument("--bootstrap", required=True, help="Kafka bootstrap servers, comma-separated")
    args = parser.parse_args()
    bootstrap = args.bootstrap.split(",")
    address, port = args.listen.rsplit(":", 1)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/metrics":
                self.send_error(404)
                return
            try:
                body = render(lags(*read_offsets(bootstrap)), up=True)
            except Exception:  # noqa: BLE001 (any failure to read Kafka is reported as up 0)
                body = render({}, up=False)
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain; version=0.0.4")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    ThreadingHTTPServer((address, int(port)), Handler).serve_forever()


if __name__ == "__main__":
    main()
