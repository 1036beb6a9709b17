#!/usr/bin/env python3
"""Dashboards as code: the DataLake FB Grafana dashboards, kept here as reviewed source and
rendered with grafana-foundation-sdk (the Grafana 11.6 schema) to
roles/grafana/files/dashboards/<uid>.json, which the grafana role provisions.

  python tools/dashboards.py           # render the JSON files
  python tools/dashboards.py --check   # fail when a JSON file is not what the source renders

Each dashboard names the scrape jobs its queries read (`jobs`); the monitoring test runs every
panel's query against the lab's Prometheus where those jobs are present: each must parse and
return data.
"""

import argparse
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DataSourceRef

OUT_DIR = Path(__file__).resolve().parents[1] / "roles" / "grafana" / "files" / "dashboards"
# The datasource the grafana role provisions (same uid).
DATASOURCE = DataSourceRef(type_val="prometheus", uid="datalake-prometheus")
PANEL_BUILDERS = {"stat": stat.Panel, "timeseries": timeseries.Panel}


@dataclass
class Panel:
    title: str
    expr: str
    legend: str = ""
    unit: str = ""
    kind: str = "timeseries"


@dataclass
class Dashboard:
    uid: str
    title: str
    jobs: list
    panels: list = field(default_factory=list)


DASHBOARDS = [
    Dashboard(
        uid="datalake-overview",
        title="DataLake FB - cluster overview",
        jobs=["node", "prometheus"],
        panels=[
            Panel("Targets up, by job", "sum by (job) (up)", "{{job}}", kind="stat"),
            Panel("Alerts firing", 'sum(ALERTS{alertstate="firing"}) or vector(0)', "firing", kind="stat"),
            Panel(
                "CPU busy",
                '100 * (1 - avg by (host) (rate(node_cpu_seconds_total{mode="idle"}[5m])))',
                "{{host}}",
                "percent",
            ),
            Panel(
                "Memory used",
                "100 * (1 - node_memory_MemAvailable_bytes / node_memory_MemTotal_bytes)",
                "{{host}}",
                "percent",
            ),
            Panel(
                "Disk free",
                "100 * node_filesystem_avail_bytes / node_filesystem_size_bytes",
                "{{host}} {{mountpoint}}",
                "percent",
            ),
            Panel("Load (1 min)", "node_load1", "{{host}}"),
        ],
    ),
    Dashboard(
        uid="datalake-spark",
        title="DataLake FB - Spark",
        jobs=["spark_master", "spark_worker"],
        panels=[
            Panel("Workers ALIVE (the master's count)", "max(metrics_master_aliveWorkers_Value)", "alive", kind="stat"),
            Panel("Applications running", "max(metrics_master_apps_Value)", "apps", kind="stat"),
            Panel("Workers answering", 'sum(up{job="spark_worker"})', "up", kind="stat"),
            Panel("Cores used, by worker", "metrics_worker_coresUsed_Value", "{{host}}"),
            Panel("Memory used, by worker", "metrics_worker_memUsed_MB_Value", "{{host}}", "decmbytes"),
            Panel("Executors, by worker", "metrics_worker_executors_Value", "{{host}}"),
        ],
    ),
    Dashboard(
        uid="datalake-kafka",
        title="DataLake FB - Kafka consumers",
        jobs=["kafka_lag"],
        panels=[
            Panel("Lag exporter reads Kafka", "min(kafka_lag_exporter_up)", "up", kind="stat"),
            Panel("Largest lag, by group", "max by (group) (kafka_consumergroup_lag_sum)", "{{group}}", kind="stat"),
            Panel("Lag, by group", "max by (group) (kafka_consumergroup_lag_sum)", "{{group}}"),
            Panel(
                "Lag, by partition",
                "max by (group, topic, partition) (kafka_consumergroup_lag)",
                "{{group}} {{topic}}/{{partition}}",
            ),
        ],
    ),
    Dashboard(
        uid="datalake-kafka-brokers",
        title="DataLake FB - Kafka brokers",
        # the JMX exporter agent in each broker (kafka role)
        jobs=["kafka"],
        panels=[
            Panel(
                "Active controllers",
                "sum(kafka_controller_kafkacontroller_activecontrollercount)",
                "active",
                kind="stat",
            ),
            Panel(
                "Under-replicated partitions",
                "sum(kafka_server_replicamanager_underreplicatedpartitions)",
                "under-replicated",
                kind="stat",
            ),
            Panel(
                "Offline partitions",
                "max(kafka_controller_kafkacontroller_offlinepartitionscount)",
                "offline",
                kind="stat",
            ),
            Panel("Partitions led, by broker", "kafka_server_replicamanager_leadercount", "{{host}}"),
            Panel(
                "Messages in per second, by broker",
                "rate(kafka_server_brokertopicmetrics_messagesinpersec_total[5m])",
                "{{host}}",
                "ops",
            ),
            Panel(
                "Bytes in per second, by broker",
                "rate(kafka_server_brokertopicmetrics_bytesinpersec_total[5m])",
                "{{host}}",
                "Bps",
            ),
            Panel(
                "Bytes out per second, by broker",
                "rate(kafka_server_brokertopicmetrics_bytesoutpersec_total[5m])",
                "{{host}}",
                "Bps",
            ),
            Panel(
                "Heap used, by broker",
                '100 * jvm_memory_used_bytes{job="kafka", area="heap"}'
                ' / jvm_memory_max_bytes{job="kafka", area="heap"}',
                "{{host}}",
                "percent",
            ),
        ],
    ),
    Dashboard(
        uid="datalake-minio",
        title="DataLake FB - MinIO (S3)",
        # every MinIO node reports the whole cluster: cluster figures take one node's view, the
        # per-server ones are counted once per server
        jobs=["minio"],
        panels=[
            Panel("Drives online", "max(minio_cluster_drive_online_total)", "online", kind="stat"),
            Panel("Drives offline", "max(minio_cluster_drive_offline_total)", "offline", kind="stat"),
            Panel(
                "Erasure sets: drives above write quorum",
                "max by (pool, set) (minio_cluster_health_erasure_set_online_drives"
                " - minio_cluster_health_erasure_set_write_quorum)",
                "pool {{pool}} set {{set}}",
            ),
            Panel(
                "Usable capacity free",
                "100 * max(minio_cluster_capacity_usable_free_bytes) / max(minio_cluster_capacity_usable_total_bytes)",
                "free",
                "percent",
            ),
            Panel("Objects", "max(minio_cluster_usage_object_total)", "objects"),
            Panel(
                "S3 requests per second, by API",
                "sum by (api) (max by (api, server) (rate(minio_s3_requests_total[5m])))",
                "{{api}}",
                "reqps",
            ),
            Panel(
                "S3 traffic received per second",
                "sum(max by (server) (rate(minio_s3_traffic_received_bytes[5m])))",
                "received",
                "Bps",
            ),
            Panel(
                "S3 traffic sent per second",
                "sum(max by (server) (rate(minio_s3_traffic_sent_bytes[5m])))",
                "sent",
                "Bps",
            ),
        ],
    ),
    Dashboard(
        uid="datalake-mariadb",
        title="DataLake FB - MariaDB and the metastores",
        # the metastores' JMX exporter agent (hive_metastore role) beside the mysqld exporter
        jobs=["mysqld", "hive_metastore"],
        panels=[
            Panel("Servers up", "sum(mysql_up)", "up", kind="stat"),
            Panel("Metastores up", 'sum(up{job="hive_metastore"})', "up", kind="stat"),
            Panel("Queries per second", "rate(mysql_global_status_queries[5m])", "{{host}}", "qps"),
            Panel(
                "Connections used",
                "100 * mysql_global_status_threads_connected / mysql_global_variables_max_connections",
                "{{host}}",
                "percent",
            ),
            Panel(
                "Buffer pool used",
                '100 * sum by (host) (mysql_global_status_buffer_pool_pages{state="data"})'
                ' / sum by (host) (mysql_global_status_buffer_pool_pages{state=~"data|free|misc"})',
                "{{host}}",
                "percent",
            ),
            Panel("Slow queries per second", "rate(mysql_global_status_slow_queries[5m])", "{{host}}", "qps"),
            Panel(
                "Metastore heap used",
                '100 * jvm_memory_used_bytes{job="hive_metastore", area="heap"}'
                ' / jvm_memory_max_bytes{job="hive_metastore", area="heap"}',
                "{{host}}",
                "percent",
            ),
            Panel("Metastore threads", 'jvm_threads_current{job="hive_metastore"}', "{{host}}"),
            Panel(
                "Metastore GC time per second",
                'sum by (host) (rate(jvm_gc_collection_seconds_sum{job="hive_metastore"}[5m]))',
                "{{host}}",
                "s",
            ),
        ],
    ),
    Dashboard(
        uid="datalake-front-door",
        title="DataLake FB - front door and ZooKeeper",
        # HAProxy's own endpoint, the keepalived role's VIP text file (node exporter) and the JMX
        # exporter agent in each ZooKeeper member: the HA layout's moving parts
        jobs=["haproxy", "node", "zookeeper"],
        panels=[
            Panel("VIP holder", "keepalived_vrrp_master == 1", "{{host}}", kind="stat"),
            Panel("Times each node took the VIP", "keepalived_vrrp_became_master_total", "{{host}}"),
            Panel("Servers up, by front-door service", "haproxy_backend_active_servers", "{{host}} {{proxy}}"),
            Panel("Client sessions, by front-door service", "haproxy_frontend_current_sessions", "{{host}} {{proxy}}"),
            Panel(
                "ZooKeeper leaders",
                'count(zookeeper_numaliveconnections{member_type="Leader"})',
                "leaders",
                kind="stat",
            ),
            Panel("ZooKeeper client connections", "zookeeper_numaliveconnections", "{{host}} {{member_type}}"),
            Panel("ZooKeeper average request latency", "zookeeper_avgrequestlatency", "{{host}}", "ms"),
            Panel("ZooKeeper outstanding requests", "zookeeper_outstandingrequests", "{{host}}"),
            Panel("ZooKeeper znodes", "zookeeper_nodecount", "{{host}}"),
        ],
    ),
    Dashboard(
        uid="datalake-cdc",
        title="DataLake FB - CDC",
        # the JMX exporter agent in each Kafka Connect worker (kafka_connect role: task counts per
        # connector of the tasks a worker runs, source task counters, Debezium's streaming gauges)
        # and the stream's systemd unit (node exporter's systemd collector, on in Debian's package)
        jobs=["kafka_connect", "node"],
        panels=[
            Panel(
                "Tasks running",
                'sum(kafka_connect_connector_tasks{state="running"})',
                "running",
                kind="stat",
            ),
            Panel(
                "Tasks failed",
                'sum(kafka_connect_connector_tasks{state="failed"})',
                "failed",
                kind="stat",
            ),
            Panel(
                "Source connected (1: reading the binlog)",
                "max by (server) (debezium_mariadb_streaming_connected)",
                "{{server}}",
                kind="stat",
            ),
            Panel(
                "Stream unit active",
                'max(node_systemd_unit_state{name="datalake-cdc-stream.service", state="active"})',
                "active",
                kind="stat",
            ),
            Panel(
                "Tasks, by connector and state",
                "sum by (connector, state) (kafka_connect_connector_tasks)",
                "{{connector}} {{state}}",
            ),
            Panel(
                "Records polled per second, by connector",
                "sum by (connector) (rate(kafka_connect_source_records_poll_total[5m]))",
                "{{connector}}",
                "ops",
            ),
            Panel(
                "Records written per second, by connector",
                "sum by (connector) (rate(kafka_connect_source_records_write_total[5m]))",
                "{{connector}}",
                "ops",
            ),
            Panel(
                "Capture lag behind MariaDB",
                "max by (server) (debezium_mariadb_streaming_millisecondsbehindsource)",
                "{{server}}",
                "ms",
            ),
            Panel(
                "Time since the last change event",
                "max by (server) (debezium_mariadb_streaming_millisecondssincelastevent)",
                "{{server}}",
                "ms",
            ),
        ],
    ),
    Dashboard(
        uid="datalake-maintenance",
        title="DataLake FB - Iceberg maintenance",
        # the iceberg_maintenance role's text files, served by the node exporter
        jobs=["node"],
        panels=[
            Panel("Tables whose last run failed", "sum(1 - iceberg_maintenance_success)", "failed", kind="stat"),
            Panel(
                "Hours since the last good run",
                "(time() - iceberg_maintenance_last_success_timestamp_seconds) / 3600",
                "{{table}}",
            ),
            Panel("Data files", "iceberg_table_data_files", "{{table}}"),
            Panel("Small-file share", "100 * iceberg_table_small_file_ratio", "{{table}}", "percent"),
            Panel("Snapshots", "iceberg_table_snapshots", "{{table}}"),
            Panel("Run time", "iceberg_maintenance_duration_seconds", "{{table}}", "s"),
        ],
    ),
]


def render(source):
    """The Grafana JSON model of one dashboard (a dict)."""
    builder = dashboard.Dashboard(source.title).uid(source.uid).tags(["datalake"]).refresh("30s").time("now-1h", "now")
    for panel in source.panels:
        query = prometheus.Dataquery().expr(panel.expr).legend_format(panel.legend)
        built = PANEL_BUILDERS[panel.kind]().title(panel.title).datasource(DATASOURCE).with_target(query)
        if panel.unit:
            built = built.unit(panel.unit)
        builder = builder.with_panel(built)
    model = json.loads(json.dumps(builder.build(), cls=JSONEncoder))
    # read by the monitoring test (which queries to run where)
    model["datalake"] = {"jobs": source.jobs}
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    stale = []
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    for source in DASHBOARDS:
        path = OUT_DIR / f"{source.uid}.json"
        text = json.dumps(render(source), indent=2, sort_keys=True) + "\n"
        if args.check:
            if not path.exists() or path.read_text() != text:
                stale.append(str(path))
        else:
            path.write_text(text)
    known = {f"{source.uid}.json" for source in DASHBOARDS}
    stale += [str(path) for path in OUT_DIR.glob("*.json") if path.name not in known]
    if stale:
        sys.exit("Not what tools/dashboards.py renders (run it and commit the result): " + ", ".join(stale))


if __name__ == "__main__":
    main()
