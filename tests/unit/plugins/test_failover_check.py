"""failover_check: each service's judgement, the overall verdict, the bounded wait and bad input."""

from ansible_collections.datalake_fb.platform.plugins.module_utils import service_readers as sr
from ansible_collections.datalake_fb.platform.plugins.modules import failover_check as fc

SYNCED = {
    "wsrep_ready": "ON",
    "wsrep_local_state_comment": "Synced",
    "wsrep_cluster_status": "Primary",
    "wsrep_cluster_size": "3",
}
KAFKA_OK = {
    "controller_id": 1,
    "brokers": [{"node_id": n} for n in (1, 2, 3)],
    "offline_partitions": [],
    "under_replicated_partitions": [],
}
ALIVE = {"status": "ALIVE", "workers": [{"host": h, "state": "ALIVE"} for h in ("n1", "n2", "n3")], "activeapps": []}
PARAMS = {
    "vip": {"address": "10.0.0.100", "node_addresses": {"n1": ["10.0.0.1", "10.0.0.100"], "n2": ["10.0.0.2"]}},
    "zookeeper": ["n1:2181", "n2:2181", "n3:2181"],
    "galera": {
        "nodes": ["n1:3306", "n2:3306", "n3:3306"],
        "user": "monitor",
        "password": "x",
        "expected_size": None,
        "ca_file": "/etc/datalake/tls/ca.crt",
    },
    "kafka": ["n1:9092", "n2:9092", "n3:9092"],
    "minio": ["http://n1:9000", "http://n2:9000", "http://n3:9000"],
    "metastore": ["n1:9083", "n2:9083"],
    "metastore_ca_file": "/etc/datalake/tls/ca.crt",
    "spark": {"masters": ["n1:8080", "n2:8080"], "expected_workers": ["n1", "n2", "n3"]},
    "timeout": 1,
    "wait_timeout": 0,
}


def readers(dead=(), kafka=KAFKA_OK, spark=None):
    """Readers of a healthy cluster, except the nodes in `dead` (names like n3)."""

    def alive(address):
        return not any(address.startswith(node) or f"//{node}:" in address for node in dead)

    class Fake:
        @staticmethod
        def http_status(url, _timeout):
            return 200 if alive(url) else None

        @staticmethod
        def zookeeper_mode(server, _timeout):
            return ("leader" if server.startswith("n1") else "follower") if alive(server) else "unreachable"

        @staticmethod
        def galera(node, _user, _password, _timeout, ca_file):
            assert ca_file == "/etc/datalake/tls/ca.crt"
            return dict(SYNCED, wsrep_cluster_size=str(3 - len(dead))) if alive(node) else None

        @staticmethod
        def kafka(_servers, _timeout):
            return kafka

        @staticmethod
        def metastore(address, _timeout, ca_file):
            assert ca_file == "/etc/datalake/tls/ca.crt"
            return alive(address)

        @staticmethod
        def spark_master(master, _timeout):
            if not alive(master):
                return None
            if spark is not None:
                return spark
            workers = [{"host": h, "state": "ALIVE" if alive(h) else "DEAD"} for h in ("n1", "n2", "n3")]
            return dict(ALIVE, workers=workers) if master.startswith("n1") else {"status": "STANDBY"}

    return Fake


def test_a_healthy_cluster():
    result, _ = fc.check(PARAMS, readers())
    assert result["verdict"] == "healthy" and result["degraded"] == []
    assert result["services"]["vip"]["holder"] == "n1"
    assert result["services"]["zookeeper"]["leader"] == "n1:2181"
    assert result["services"]["spark"]["alive_master"] == "n1:8080"
    assert {s["status"] for s in result["services"].values()} == {"healthy"}


def test_a_lost_node_degrades_every_service_it_served():
    under = dict(KAFKA_OK, brokers=KAFKA_OK["brokers"][:2], under_replicated_partitions=["events-0"])
    result, _ = fc.check(PARAMS, readers(dead=("n3",), kafka=under))
    assert result["verdict"] == "degraded"
    statuses = {name: s["status"] for name, s in result["services"].items()}
    assert statuses == {
        "vip": "healthy",
        "zookeeper": "degraded",
        "galera": "degraded",
        "kafka": "degraded",
        "minio": "degraded",
        "metastore": "healthy",
        "spark": "degraded",
    }
    assert "kafka: under-replicated partitions: events-0" in result["degraded"]
    assert "kafka: 2 of 3 brokers registered" in result["degraded"]
    assert any(line.startswith("galera: nodes not serving: n3:3306 unreachable") for line in result["degraded"])
    assert "minio: nodes not live: http://n3:9000 unreachable" in result["degraded"]


def test_no_quorum_is_down():
    result, _ = fc.check(PARAMS, readers(dead=("n1", "n2", "n3"), kafka="NoBrokersAvailable"))
    assert result["verdict"] == "down"
    assert all(s["status"] == "down" for name, s in result["services"].items() if name != "vip")
    assert "kafka: the cluster could not be read: NoBrokersAvailable" in result["degraded"]


def test_galera_rules():
    assert sr.galera_problems({"a": SYNCED, "b": SYNCED, "c": SYNCED}, 3) == ("healthy", [])
    status, problems = sr.galera_problems(
        {"a": dict(SYNCED, wsrep_cluster_size="2"), "b": dict(SYNCED, wsrep_cluster_size="2")}, 3
    )
    assert status == "degraded" and problems == ["cluster size is not 3 on a, b"]
    donor = dict(SYNCED, wsrep_local_state_comment="Donor/Desynced")
    assert sr.galera_problems({"a": SYNCED, "b": donor}, 2)[0] == "degraded"
    non_primary = dict(SYNCED, wsrep_cluster_status="non-Primary", wsrep_cluster_size="1")
    status, problems = sr.galera_problems({"a": non_primary, "b": None}, 2)
    assert status == "down" and "a Synced/non-Primary size 1, b unreachable" in problems[0]


def test_minio_and_metastore_rules():
    assert sr.minio_problems({"a": 200, "b": 200}, 200) == ("healthy", [])
    assert sr.minio_problems({"a": 200, "b": None}, 503)[0] == "down"
    assert sr.minio_problems({"a": 200, "b": 503}, 200) == ("degraded", ["nodes not live: b 503"])
    assert sr.metastore_problems({"a": False, "b": False})[0] == "down"
    assert sr.metastore_problems({"a": True, "b": False}) == ("degraded", ["metastores not answering: b"])


def test_vip_held_by_exactly_one_node():
    assert sr.vip_problems("v", {"a": ["v"], "b": []}) == ("a", "healthy", [])
    assert sr.vip_problems("v", {"a": [], "b": []})[1:] == ("down", ["no node holds the VIP v"])
    holder, status, problems = sr.vip_problems("v", {"a": ["v"], "b": ["v"]})
    assert holder is None and status == "down" and "held by 2 nodes" in problems[0]


def test_spark_without_an_alive_master_is_down():
    result, _ = fc.check(dict(PARAMS, vip=None), readers(spark={"status": "RECOVERING"}))
    assert result["services"]["spark"]["status"] == "down" and result["verdict"] == "down"


def test_the_wait_is_bounded():
    now = [0.0]
    params = dict(PARAMS, wait_timeout=10)
    result, waited = fc.check(
        params, readers(dead=("n3",)), clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    assert result["verdict"] == "degraded" and waited <= 10


def test_bad_input_is_refused_before_any_read(run_module):
    outcome, result = run_module(
        fc.main,
        {
            "kafka": ["n1"],
            "minio": ["n1:9000"],
            "galera": {"nodes": ["n1:70000"], "user": "u", "password": "s3cr3t-value", "ca_file": "/nonexistent/ca"},
            "metastore": ["n1:9083"],
            "metastore_ca_file": "/nonexistent/metastore-ca",
        },
    )
    assert outcome == "fail"
    assert "galera.ca_file /nonexistent/ca is not a readable file" in result["msg"]
    assert "metastore_ca_file /nonexistent/metastore-ca is not a readable file" in result["msg"]
    assert "'n1' is not host:port" in result["msg"] and "'n1:9000' is not an http(s) URL" in result["msg"]
    assert "'n1:70000' is not host:port" in result["msg"] and "s3cr3t-value" not in str(result)


def test_nothing_to_check_is_refused(run_module):
    outcome, result = run_module(fc.main, {})
    assert outcome == "fail" and "one of the following is required" in result["msg"]


def test_the_module_reads_real_sockets(run_module):
    """Against ports nothing listens on: every service read is down, and the module still exits."""
    outcome, result = run_module(
        fc.main,
        {"zookeeper": ["127.0.0.1:1"], "metastore": ["127.0.0.1:1"], "minio": ["http://127.0.0.1:1"], "timeout": 1},
    )
    assert outcome == "exit" and result["changed"] is False and result["verdict"] == "down"
    assert set(result["services"]) == {"zookeeper", "metastore", "minio"}


def test_galera_logs_in_over_tls_with_the_ca_and_in_plaintext_without(monkeypatch):
    calls = []

    def connect(**options):
        calls.append(options)
        raise fc.pymysql.MySQLError("refused")

    monkeypatch.setattr(fc.pymysql, "connect", connect)
    assert fc.read_galera("n1:3306", "monitor", "x", 1, "/etc/datalake/tls/ca.crt") is None
    assert fc.read_galera("n1:3306", "monitor", "x", 1) is None
    tls, plain = calls
    assert tls["ssl_ca"] == "/etc/datalake/tls/ca.crt" and tls["ssl_verify_cert"] and tls["ssl_verify_identity"]
    assert "ssl_ca" not in plain and plain["host"] == "n1" and plain["port"] == 3306
