"""Monitoring on a lab node: the exporters, Prometheus and Alertmanager running on the node's
address only (the JMX agents inside their JVM service), their secrets readable by their service
alone, the mysqld exporter's account limited to what it reads, and the shared text-file directory."""

import json

import pytest

SERVICES = [
    ("prometheus-node-exporter", 9100),
    ("prometheus-mysqld-exporter", 9104),
    ("kafka-lag-exporter", 9308),
    ("prometheus", 9090),
    ("prometheus-alertmanager", 9095),
]


@pytest.mark.parametrize(("unit", "port"), SERVICES)
def test_service_enabled_and_listening_on_the_node_address_only(host, node, unit, port):
    service = host.service(unit)
    assert service.is_running and service.is_enabled
    assert host.socket(f"tcp://{node['ip']}:{port}").is_listening
    assert not host.socket(f"tcp://0.0.0.0:{port}").is_listening


# The JMX exporter agents run inside the JVM services: their port belongs to the service's process.
AGENTS = [("kafka", 9404), ("hive-metastore", 9405)]


@pytest.mark.parametrize(("unit", "port"), AGENTS)
def test_jmx_agent_serves_from_inside_its_service_on_the_node_address_only(host, node, unit, port):
    pid = host.check_output("systemctl show --property MainPID --value %s", unit)
    command_line = host.check_output("tr '\\0' ' ' < /proc/%s/cmdline", pid)
    assert f"={node['ip']}:{port}:" in command_line, command_line
    # Java listens on a dual-stack socket: the node's address shows IPv4-mapped
    listening = {line.split()[3] for line in host.check_output("ss -Hltn sport = :%s", str(port)).splitlines()}
    assert listening and listening <= {f"{node['ip']}:{port}", f"[::ffff:{node['ip']}]:{port}"}, listening


SECRET_FILES = [
    "/etc/prometheus/alertmanager.yml",
    "/etc/prometheus/mysqld-exporter.cnf",
    "/etc/prometheus/prometheus.yml",
    "/etc/prometheus/minio.token",
]


def sql(host, query):
    return host.check_output("mysql --batch --skip-column-names -e %s", query)


@pytest.mark.parametrize("path", SECRET_FILES)
def test_files_that_may_hold_secrets_are_not_world_readable(host, path):
    config = host.file(path)
    assert config.user == "root" and config.group == "prometheus"
    assert config.mode == 0o640


def test_the_exporter_account_has_only_its_read_privileges(host):
    grants = sql(host, "SHOW GRANTS FOR 'mysqld_exporter'@'localhost'")
    # MariaDB 10.11 shows REPLICATION CLIENT as BINLOG MONITOR
    assert "PROCESS" in grants and "BINLOG MONITOR" in grants, grants
    assert "MAX_USER_CONNECTIONS 3" in grants, grants
    for line in grants.splitlines():
        assert "ALL PRIVILEGES" not in line, line
        assert "ON `performance_schema`" in line or "ON *.*" in line, line
    accounts = sql(host, "SELECT Host FROM mysql.user WHERE User = 'mysqld_exporter'")
    assert accounts.split() == ["localhost"]


def test_the_text_file_directory_is_shared_by_the_metrics_group(host):
    directory = host.file("/var/lib/prometheus/node-exporter")
    assert directory.user == "root" and directory.group == "datalake-metrics"
    assert directory.mode == 0o2775


def test_prometheus_rules_pass_their_own_unit_test(host):
    result = host.run("cd /etc/prometheus/rules && promtool test rules datalake.rules_test.yml")
    assert result.rc == 0, result.stdout + result.stderr


def test_prometheus_scrapes_its_jobs(host, node):
    targets = json.loads(host.check_output(f"curl -fsS http://{node['ip']}:9090/api/v1/targets"))
    jobs = {target["labels"]["job"] for target in targets["data"]["activeTargets"]}
    expected = "node mysqld kafka_lag kafka hive_metastore minio spark_master spark_worker prometheus alertmanager"
    assert set(expected.split()) <= jobs
