#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: failover_check
short_description: One verdict on a DataLake FB cluster - which node holds the VIP, each service's health and quorum
version_added: 1.3.0
description:
  - Reads every service of the cluster the way a client would, from the host it runs on, and
    judges each one C(healthy), C(degraded) (serving, but a node or member is missing) or C(down)
    (no quorum or no node serving), with one overall verdict and the list of what is degraded.
  - "Quorums read: ZooKeeper (one leader, every server in the quorum), Galera (a node Synced in a
    Primary component; every node ready, Synced, at the expected size), Kafka (every broker
    registered, an active controller, no offline or under-replicated partition), MinIO (write
    quorum from the cluster health check, every node live), Hive Metastore (a Thrift call on each),
    Spark standalone (one ALIVE master, standbys answering, every worker registered) and the VIP
    (held by exactly one node)."
  - Only the services given are read. It never changes anything.
  - With O(wait_timeout) it polls until the verdict is C(healthy) and fails when that time is up.
author: DataLake FB platform engineers
options:
  vip:
    description:
      - The virtual IP and each node's addresses (for example from C(ansible_all_ipv4_addresses)
        of every node); the holder is the node whose addresses include the VIP.
    type: dict
    suboptions:
      address:
        description: The VIP.
        type: str
        required: true
      node_addresses:
        description: "Node name: list of its addresses."
        type: dict
        required: true
  zookeeper:
    description: ZooKeeper servers, C(host:port) of their client port.
    type: list
    elements: str
  galera:
    description: Galera nodes and a monitoring login (it only reads C(SHOW GLOBAL STATUS)).
    type: dict
    suboptions:
      nodes:
        description: Nodes, C(host:port).
        type: list
        elements: str
        required: true
      user:
        description: Login user.
        type: str
        required: true
      password:
        description: Login password.
        type: str
        required: true
        no_log: true
      expected_size:
        description: Members the cluster should have; the number of O(galera.nodes) by default.
        type: int
      ca_file:
        description:
          - CA certificate to check the servers' certificates and names against; the login then goes over TLS
            (a server with C(require_secure_transport) takes nothing else).
          - Without it the login goes in plaintext.
        type: path
  kafka:
    description:
      - Brokers to bootstrap from, C(host:port); every one must be registered.
      - The login is the one in C(/etc/kafka/admin-client.properties) on the node the module runs on (see the
        C(client_config) option of M(datalake_fb.platform.kafka_topic)); without it the client connects without a login.
    type: list
    elements: str
  minio:
    description: MinIO nodes' API URLs, C(https://host:port) (certificates checked against the node's trust store).
    type: list
    elements: str
  metastore:
    description: Hive Metastores, C(host:port).
    type: list
    elements: str
  metastore_ca_file:
    description:
      - CA certificate to check the metastores' certificates and names against; the calls then go over TLS (a
        metastore with C(hive.metastore.use.SSL) takes nothing else).
      - Without it the calls go in plaintext.
    type: path
  spark:
    description: Spark standalone masters and the workers that must be registered.
    type: dict
    suboptions:
      masters:
        description: Masters' web UI addresses, C(host:port).
        type: list
        elements: str
        required: true
      expected_workers:
        description: Worker hosts that must be registered ALIVE with the ALIVE master.
        type: list
        elements: str
        default: []
  timeout:
    description: Seconds each request may take.
    type: float
    default: 5
  wait_timeout:
    description: Seconds to wait for a C(healthy) verdict; 0 reads once and reports (never fails on what it finds).
    type: int
    default: 0
requirements:
  - kafka-python >= 2.1 (for O(kafka))
  - PyMySQL (for O(galera))
extends_documentation_fragment:
  - datalake_fb.platform.info_module
"""

EXAMPLES = r"""
- name: Read the whole cluster
  datalake_fb.platform.failover_check:
    vip:
      address: 10.231.10.100
      node_addresses: "{{ dict(nodes | zip(nodes | map('extract', hostvars, 'ansible_all_ipv4_addresses'))) }}"
    zookeeper: [n1:2181, n2:2181, n3:2181]
    galera:
      nodes: [n1:3306, n2:3306, n3:3306]
      user: monitor
      password: "{{ monitor_password }}"
      ca_file: /etc/datalake/tls/ca.crt
    kafka: [n1:9092, n2:9092, n3:9092]
    minio: [https://n1:9000, https://n2:9000, https://n3:9000]
    metastore: [n1:9083, n2:9083, n3:9083]
    metastore_ca_file: /etc/datalake/tls/ca.crt
    spark: {masters: [n1:8080, n2:8080], expected_workers: [n1, n2, n3]}
  vars:
    nodes: "{{ groups['datalake'] }}"
  register: cluster

- name: Wait up to five minutes for a healthy cluster
  datalake_fb.platform.failover_check:
    kafka: [n1:9092, n2:9092, n3:9092]
    galera: {nodes: [n1:3306, n2:3306, n3:3306], user: monitor, password: "{{ monitor_password }}"}
    wait_timeout: 300
"""

RETURN = r"""
verdict:
  description: C(healthy), C(degraded) (every service serving, something missing) or C(down) (a service has no quorum).
  returned: always
  type: str
  sample: degraded
degraded:
  description: What keeps the verdict from C(healthy), one line per problem, prefixed with the service.
  returned: always
  type: list
  elements: str
  sample: ["kafka: under-replicated partitions: events-0", "galera: nodes not serving: n3 unreachable"]
services:
  description: "Per service read: C(status), C(problems) and what was read (VIP C(holder), ZooKeeper
    C(modes) and C(leader), Galera C(nodes), Kafka C(controller_id) and C(brokers), MinIO C(live),
    metastore C(answers), Spark C(alive_master), C(masters) and C(workers))."
  returned: always
  type: dict
  sample:
    vip: {status: healthy, problems: [], holder: n1}
    zookeeper: {status: healthy, problems: [], leader: "n2:2181"}
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
"""

import os
import time
import traceback

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.datalake_fb.platform.plugins.module_utils.health_wait import wait_until_healthy
from ansible_collections.datalake_fb.platform.plugins.module_utils.hive_metastore import HiveMetastore, tls_context
from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    KAFKA_IMPORT_ERROR,
    KafkaError,
    admin_client,
    cluster_summary,
    health_problems,
)
from ansible_collections.datalake_fb.platform.plugins.module_utils.service_readers import (
    GALERA_STATUS,
    ensemble_problems,
    galera_problems,
    metastore_problems,
    minio_problems,
    read_http_status,
    read_master,
    read_mode,
    summarize,
    vip_problems,
)

PYMYSQL_IMPORT_ERROR = None
try:
    import pymysql
except ImportError:
    pymysql = None
    PYMYSQL_IMPORT_ERROR = traceback.format_exc()


def split_address(address):
    host, _, port = address.rpartition(":")
    return host, int(port)


def read_galera(address, user, password, timeout, ca_file=None):
    """A node's wsrep status variables, or None when it does not answer (over TLS with ca_file)."""
    host, port = split_address(address)
    tls = {"ssl_ca": ca_file, "ssl_verify_cert": True, "ssl_verify_identity": True} if ca_file else {}
    try:
        conn = pymysql.connect(
            host=host, port=port, user=user, password=password, connect_timeout=timeout, read_timeout=timeout, **tls
        )
    except pymysql.MySQLError:
        return None
    try:
        with conn.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS WHERE Variable_name IN (%s, %s, %s, %s)", GALERA_STATUS)
            return dict(cursor.fetchall())
    except pymysql.MySQLError:
        return None
    finally:
        conn.close()


def read_metastore(address, timeout, ca_file=None):
    """True when the metastore lists its databases (over TLS with ca_file)."""
    host, port = split_address(address)
    try:
        with HiveMetastore(host, port, timeout, tls_context(ca_file)) as metastore:
            metastore.databases()
        return True
    except Exception:  # noqa: BLE001 (any failure means this metastore does not serve)
        return False


def read_kafka(bootstrap_servers, timeout):
    """The cluster summary, or the error text when the cluster could not be read."""
    admin = None
    try:
        admin = admin_client(
            {
                "bootstrap_servers": bootstrap_servers,
                "client_id": "datalake-fb-failover-check",
                "timeout": max(1, int(timeout)),
            }
        )
        return cluster_summary(admin)
    except KafkaError as error:
        return str(error) or type(error).__name__
    finally:
        if admin is not None:
            admin.close()


class Readers:
    """The I/O of one check; unit tests give their own."""

    http_status = staticmethod(read_http_status)
    zookeeper_mode = staticmethod(read_mode)
    galera = staticmethod(read_galera)
    kafka = staticmethod(read_kafka)
    metastore = staticmethod(read_metastore)
    spark_master = staticmethod(read_master)


def check_kafka(summary, expected_brokers):
    """Judge a cluster summary, or the error text of a failed read (down: nothing can be produced)."""
    if isinstance(summary, str):
        problem = f"the cluster could not be read: {summary}"
        return {"status": "down", "problems": [problem], "controller_id": None, "brokers": []}
    problems = health_problems(summary, expected_brokers, fully_replicated=True)
    down = summary["controller_id"] is None or summary["offline_partitions"]
    status = "down" if down else ("degraded" if problems else "healthy")
    brokers = [broker["node_id"] for broker in summary["brokers"]]
    return {"status": status, "problems": problems, "controller_id": summary["controller_id"], "brokers": brokers}


def read_cluster(params, timeout, readers=Readers):
    """Every service given in params, judged: {service: {status, problems, ...}}."""
    services = {}
    if params.get("vip"):
        holder, status, problems = vip_problems(params["vip"]["address"], params["vip"]["node_addresses"])
        services["vip"] = {"status": status, "problems": problems, "holder": holder}
    if params.get("zookeeper"):
        modes = {server: readers.zookeeper_mode(server, timeout) for server in params["zookeeper"]}
        leader, problems = ensemble_problems(modes)
        status = "down" if leader is None else ("degraded" if problems else "healthy")
        services["zookeeper"] = {"status": status, "problems": problems, "leader": leader, "modes": modes}
    if params.get("galera"):
        galera = params["galera"]
        nodes = {
            node: readers.galera(node, galera["user"], galera["password"], timeout, galera.get("ca_file"))
            for node in galera["nodes"]
        }
        status, problems = galera_problems(nodes, galera.get("expected_size") or len(galera["nodes"]))
        services["galera"] = {"status": status, "problems": problems, "nodes": nodes}
    if params.get("kafka"):
        services["kafka"] = check_kafka(readers.kafka(params["kafka"], timeout), len(params["kafka"]))
    if params.get("minio"):
        live = {url: readers.http_status(f"{url}/minio/health/live", timeout) for url in params["minio"]}
        quorum = [readers.http_status(f"{url}/minio/health/cluster", timeout) for url in params["minio"] if live[url]]
        status, problems = minio_problems(live, 200 if 200 in quorum else (quorum[0] if quorum else None))
        services["minio"] = {"status": status, "problems": problems, "live": live}
    if params.get("metastore"):
        answers = {
            address: readers.metastore(address, timeout, params.get("metastore_ca_file"))
            for address in params["metastore"]
        }
        status, problems = metastore_problems(answers)
        services["metastore"] = {"status": status, "problems": problems, "answers": answers}
    if params.get("spark"):
        spark = params["spark"]
        documents = {master: readers.spark_master(master, timeout) for master in spark["masters"]}
        summary, problems = summarize(documents, spark.get("expected_workers") or [], [])
        status = "down" if summary["alive_master"] is None else ("degraded" if problems else "healthy")
        services["spark"] = dict(summary, status=status, problems=problems)
    return services


def verdict(services):
    """(overall verdict, degraded lines) of the judged services."""
    statuses = {service["status"] for service in services.values()}
    overall = "down" if "down" in statuses else ("degraded" if "degraded" in statuses else "healthy")
    lines = [f"{name}: {problem}" for name, service in services.items() for problem in service["problems"]]
    return overall, lines


def check(params, readers=Readers, clock=time.monotonic, sleep=time.sleep):
    """Read (and with wait_timeout, re-read until healthy): (result, waited)."""

    def read_once(timeout):
        services = read_cluster(params, timeout, readers)
        overall, lines = verdict(services)
        return {"verdict": overall, "degraded": lines, "services": services}, lines

    result, _lines, waited = wait_until_healthy(read_once, params["wait_timeout"], params["timeout"], clock, sleep)
    return result, waited


SERVICES = ("vip", "zookeeper", "galera", "kafka", "minio", "metastore", "spark")


def main():
    module = AnsibleModule(
        argument_spec={
            "vip": {
                "type": "dict",
                "options": {
                    "address": {"type": "str", "required": True},
                    "node_addresses": {"type": "dict", "required": True},
                },
            },
            "zookeeper": {"type": "list", "elements": "str"},
            "galera": {
                "type": "dict",
                "options": {
                    "nodes": {"type": "list", "elements": "str", "required": True},
                    "user": {"type": "str", "required": True},
                    "password": {"type": "str", "required": True, "no_log": True},
                    "expected_size": {"type": "int"},
                    "ca_file": {"type": "path"},
                },
            },
            "kafka": {"type": "list", "elements": "str"},
            "minio": {"type": "list", "elements": "str"},
            "metastore": {"type": "list", "elements": "str"},
            "metastore_ca_file": {"type": "path"},
            "spark": {
                "type": "dict",
                "options": {
                    "masters": {"type": "list", "elements": "str", "required": True},
                    "expected_workers": {"type": "list", "elements": "str", "default": []},
                },
            },
            "timeout": {"type": "float", "default": 5},
            "wait_timeout": {"type": "int", "default": 0},
        },
        required_one_of=[SERVICES],
        supports_check_mode=True,
    )
    params = module.params
    bad = bad_input(params)
    if bad:
        module.fail_json(msg=f"failover_check: {'; '.join(bad)}")
    if params["kafka"] and KAFKA_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    if params["galera"] and PYMYSQL_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("PyMySQL"), exception=PYMYSQL_IMPORT_ERROR)
    result, waited = check(params)
    if params["wait_timeout"] and result["verdict"] != "healthy":
        module.fail_json(
            msg=f"the cluster is {result['verdict']} after {params['wait_timeout']} s: {'; '.join(result['degraded'])}",
            waited=waited,
            **result,
        )
    module.exit_json(changed=False, waited=waited, **result)


def bad_input(params):
    """What is wrong with the parameters (addresses without a port, bounds out of range)."""
    problems = []
    if params["timeout"] <= 0 or params["wait_timeout"] < 0:
        problems.append("timeout must be > 0 and wait_timeout >= 0")
    addresses = list(params["zookeeper"] or []) + list(params["kafka"] or []) + list(params["metastore"] or [])
    addresses += (params["galera"] or {}).get("nodes") or []
    addresses += (params["spark"] or {}).get("masters") or []
    for address in addresses:
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            problems.append(f"{address!r} is not host:port with a port from 1 to 65535")
    for url in params["minio"] or []:
        if not url.startswith(("http://", "https://")):
            problems.append(f"{url!r} is not an http(s) URL")
    galera = params["galera"] or {}
    if galera.get("expected_size") is not None and galera["expected_size"] < 1:
        problems.append("galera.expected_size must be 1 or more")
    # a CA that cannot be read would pass for every node being down
    ca_files = {"galera.ca_file": galera.get("ca_file"), "metastore_ca_file": params["metastore_ca_file"]}
    for name, ca_file in ca_files.items():
        if ca_file and not os.access(ca_file, os.R_OK):
            problems.append(f"{name} {ca_file} is not a readable file")
    return problems


if __name__ == "__main__":
    main()
