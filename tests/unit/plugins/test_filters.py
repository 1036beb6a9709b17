import base64
import hashlib
import hmac
import json

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datalake_fb.platform.plugins.filter.datalake import (
    FilterModule,
    artifact_plan,
    beeline_timings,
    ipv4_covered,
    ipv4_source_problems,
    ipv4_source_sets,
    kafka_check_rates,
    minio_bucket_policy,
    minio_layout,
    minio_policy_canonical,
    minio_prometheus_token,
    nft_source_sets,
    rewrite_url,
    scrape_config,
    security_audit_findings,
    to_megabytes,
    vip_problems,
)

CATALOG = [
    {
        "component": "kafka",
        "version": "4.4.0",
        "file": "kafka/a.jar",
        "url": "https://repo1.maven.org/maven2/a.jar",
        "sha256": "a" * 64,
    },
    {
        "component": "kafka",
        "version": "4.4.0",
        "file": "kafka/b.jar",
        "url": "https://repo1.maven.org/maven2/b.jar",
        "sha256": "b" * 64,
    },
    {"component": "kafka", "version": "4.3.0", "file": "kafka/old.jar", "url": "https://x/old.jar", "sha256": "c" * 64},
    {"component": "minio", "version": "2026", "file": "minio/minio", "source": "go"},
]


@pytest.mark.parametrize(
    ("size", "megabytes"),
    [
        ("512m", 512),
        ("4g", 4096),
        ("4G", 4096),
        ("1.5g", 1536),
        ("2048k", 2),
        ("8GiB", 8192),
        ("1t", 1048576),
        (" 256M ", 256),
        ("1073741824", 1024),
        (1073741824, 1024),
    ],
)
def test_to_megabytes(size, megabytes):
    assert to_megabytes(size) == megabytes


@pytest.mark.parametrize("bad", ["", "lots", "4x", "-1g", "0", True, None, "g4"])
def test_to_megabytes_rejects_nonsense(bad):
    with pytest.raises(AnsibleFilterError, match="to_megabytes"):
        to_megabytes(bad)


def test_rewrite_url_takes_the_longest_prefix():
    rewrites = {"https://repo1.maven.org/": "https://mirror/", "https://repo1.maven.org/maven2/": "https://nexus/m2/"}
    assert rewrite_url("https://repo1.maven.org/maven2/a.jar", rewrites) == "https://nexus/m2/a.jar"
    assert rewrite_url("https://repo1.maven.org/other/a.jar", rewrites) == "https://mirror/other/a.jar"
    assert rewrite_url("https://pypi/a.whl", rewrites) == "https://pypi/a.whl"
    with pytest.raises(AnsibleFilterError):
        rewrite_url("https://x", ["not", "a", "dict"])


def test_artifact_plan_expands_components_into_files():
    plan = artifact_plan(
        [{"component": "kafka", "version": "4.4.0", "dest": "/opt/kafka/libs", "exclusive": True}],
        CATALOG,
        "/var/cache/x",
    )
    assert [entry["dest"] for entry in plan] == ["/opt/kafka/libs/a.jar", "/opt/kafka/libs/b.jar"]
    assert plan[0]["line"] == f"{'a' * 64}  /opt/kafka/libs/a.jar"
    assert plan[0]["exclusive"] and plan[0]["mode"] == "0644" and plan[0]["dir"] == "/opt/kafka/libs"


def test_artifact_plan_defaults_dest_and_rewrites_urls():
    plan = artifact_plan(
        [{"component": "kafka", "version": "4.4.0"}],
        CATALOG,
        "/var/cache/x",
        "url",
        None,
        {"https://repo1.maven.org/maven2/": "https://nexus/"},
    )
    assert plan[1]["dest"] == "/var/cache/x/kafka/b.jar"
    assert plan[1]["url"] == "https://nexus/b.jar"


def test_artifact_plan_takes_built_checksums_from_the_manifest_or_overrides():
    manifest = {"artifacts": [{"file": "minio/minio", "sha256": "d" * 64}]}
    plan = artifact_plan([{"component": "minio", "version": "2026", "mode": "0755"}], CATALOG, "/n", "cache", manifest)
    assert plan[0]["sha256"] == "d" * 64 and plan[0]["url"] is None and plan[0]["mode"] == "0755"
    overrides = {"minio/minio": {"url": "https://dl/minio", "sha256": "e" * 64}}
    plan = artifact_plan([{"component": "minio", "version": "2026"}], CATALOG, "/n", "url", manifest, {}, overrides)
    assert plan[0]["sha256"] == "e" * 64 and plan[0]["url"] == "https://dl/minio"


def test_artifact_plan_refuses_unknown_versions_and_unknown_checksums():
    with pytest.raises(AnsibleFilterError, match=r"kafka version 9.9.9 \(pinned versions: 4.3.0, 4.4.0\)"):
        artifact_plan([{"component": "kafka", "version": "9.9.9"}], CATALOG, "/n")
    with pytest.raises(AnsibleFilterError, match="has no known sha256"):
        artifact_plan([{"component": "minio", "version": "2026"}], CATALOG, "/n")
    with pytest.raises(AnsibleFilterError, match="expected a list"):
        artifact_plan("kafka", CATALOG, "/n")


def test_filter_module_exports_the_filters():
    assert set(FilterModule().filters()) == {
        "to_megabytes",
        "rewrite_url",
        "artifact_plan",
        "ipv4_source_problems",
        "ipv4_covered",
        "ipv4_source_sets",
        "nft_source_sets",
        "security_audit_findings",
        "kafka_check_rates",
        "beeline_timings",
        "galera_node_state",
        "galera_plan",
        "minio_layout",
        "iceberg_maintenance_request",
        "vip_problems",
        "scrape_config",
        "minio_prometheus_token",
        "minio_bucket_policy",
        "minio_policy_canonical",
    }


def test_minio_bucket_policy_reaches_only_its_buckets():
    policy = minio_bucket_policy(["warehouse", "spark-events"])
    resources = [resource for statement in policy["Statement"] for resource in statement["Resource"]]
    assert resources == [
        "arn:aws:s3:::warehouse",
        "arn:aws:s3:::spark-events",
        "arn:aws:s3:::warehouse/*",
        "arn:aws:s3:::spark-events/*",
    ]
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert all(statement["Effect"] == "Allow" for statement in policy["Statement"])
    # nothing that creates, deletes or lists buckets beyond these, and no admin action
    assert not actions & {"s3:*", "s3:CreateBucket", "s3:DeleteBucket", "s3:ListAllMyBuckets"}
    assert not [action for action in actions if not action.startswith("s3:")]


def test_a_policy_minio_gave_back_reordered_is_the_same_policy():
    wanted = minio_bucket_policy(["warehouse", "spark-events"])
    # as MinIO 2026-02 returned it on the lab: resources sorted, actions in its own order
    returned = json.loads(json.dumps(wanted))
    for statement in returned["Statement"]:
        statement["Resource"].sort()
        statement["Action"].reverse()
    returned["Statement"].reverse()
    assert minio_policy_canonical(returned) == minio_policy_canonical(wanted)
    narrower = json.loads(json.dumps(wanted))
    narrower["Statement"][0]["Resource"] = ["arn:aws:s3:::warehouse"]
    assert minio_policy_canonical(narrower) != minio_policy_canonical(wanted)


@pytest.mark.parametrize("buckets", [[], "warehouse", None])
def test_minio_bucket_policy_needs_a_list_of_buckets(buckets):
    with pytest.raises(AnsibleFilterError, match="non-empty list of buckets"):
        minio_bucket_policy(buckets)


NODES = {"n1": "10.231.70.11/24", "n2": "10.231.70.12/24", "n3": "10.231.70.13/24"}


def test_vip_problems_accepts_a_free_address_of_the_nodes_network():
    assert vip_problems("10.231.70.10", NODES) == []


def test_vip_problems_names_each_reason():
    assert vip_problems("10.231.70.12", NODES) == ["the VIP 10.231.70.12 is n2's own address"]
    assert vip_problems("10.231.71.10", NODES)[0] == "the VIP 10.231.71.10 is outside n1's network 10.231.70.0/24"
    assert len(vip_problems("10.231.71.10", NODES)) == 3
    assert (
        vip_problems("10.231.70.255", NODES)[0]
        == "the VIP 10.231.70.255 is the network or broadcast address of 10.231.70.0/24"
    )
    assert vip_problems("vip.example", NODES) == ["the VIP 'vip.example' is not an IP address"]
    assert vip_problems("10.231.70.10", {"n1": "10.231.70.11"}) == ["n1: '10.231.70.11' is not address/prefix"]
    assert vip_problems("10.231.70.10", {"n1": "nonsense/24"}) == ["n1: 'nonsense/24' is not address/prefix"]
    with pytest.raises(AnsibleFilterError, match="expected"):
        vip_problems("10.231.70.10", [])


def test_iceberg_maintenance_request_checks_a_policy_like_the_module():
    request = FilterModule().filters()["iceberg_maintenance_request"](
        {"table": "sales.vendas", "rewrite_data_files": {"target_file_size": "128MB"}}, "lakehouse"
    )
    assert request["actions"]["rewrite_data_files"]["target_file_size"] == 128 * 1024 * 1024
    check = FilterModule().filters()["iceberg_maintenance_request"]
    with pytest.raises(AnsibleFilterError, match=r"policy of sales\.vendas: remove_orphan_files\.older_than"):
        check({"table": "sales.vendas", "remove_orphan_files": {"older_than": "1h"}})
    with pytest.raises(AnsibleFilterError, match="no action is enabled"):
        check({"table": "sales.vendas", "rewrite_data_files": {"enabled": False}})
    with pytest.raises(AnsibleFilterError, match="needs a table"):
        check({"rewrite_data_files": {}})


def test_minio_layout_three_by_two_survives_a_node():
    layout = minio_layout(3, 2)
    assert layout["set_size"] == 6 and layout["parity"] == 3 and layout["write_quorum"] == 4
    assert layout["survives_node_loss"] and layout["drives_lost_per_set"] == 2


def test_minio_layout_three_by_five_needs_more_parity():
    layout = minio_layout(3, 5)
    assert layout["set_size"] == 15 and layout["parity"] == 4 and not layout["survives_node_loss"]
    assert layout["min_parity_to_survive"] == 5
    assert minio_layout(3, 5, "EC:5")["survives_node_loss"]


def test_minio_layout_single_node_and_bad_input():
    assert minio_layout(1, 1)["set_size"] == 1 and not minio_layout(1, 1)["survives_node_loss"]
    assert minio_layout(4, 1)["survives_node_loss"]
    with pytest.raises(AnsibleFilterError, match="exceeds half"):
        minio_layout(3, 2, "EC:4")
    with pytest.raises(AnsibleFilterError, match="EC:2"):
        minio_layout(3, 2, "RRS")
    with pytest.raises(AnsibleFilterError, match="at least one node"):
        minio_layout(0, 2)


def test_scrape_config_labels_each_target_with_its_host():
    assert scrape_config({"name": "node", "hosts": ["n1", "n2"], "port": "9100"}) == {
        "job_name": "node",
        "metrics_path": "/metrics",
        "static_configs": [
            {"targets": ["n1:9100"], "labels": {"host": "n1"}},
            {"targets": ["n2:9100"], "labels": {"host": "n2"}},
        ],
    }
    token = {"type": "Bearer", "credentials_file": "/etc/prometheus/minio.token"}
    minio = {"name": "minio", "hosts": ["n1"], "port": 9000, "path": "/minio/v2/metrics/cluster", "scheme": "https"}
    assert scrape_config(minio)["scheme"] == "https"
    assert scrape_config(minio)["metrics_path"] == "/minio/v2/metrics/cluster"
    tls = {"ca_file": "/etc/datalake/tls/ca.crt"}
    assert scrape_config(minio | {"tls_config": tls})["tls_config"] == tls
    assert "tls_config" not in scrape_config(minio)
    assert "authorization" not in scrape_config(minio)
    assert scrape_config(minio | {"authorization": token})["authorization"] == token


@pytest.mark.parametrize(
    ("job", "message"),
    [
        ({"name": "node", "hosts": [], "port": 9100}, "needs a non-empty list of hosts"),
        ({"name": "node", "hosts": "n1", "port": 9100}, "needs a non-empty list of hosts"),
        ({"name": "node", "hosts": ["n1"], "port": 70000}, "not 1-65535"),
        ({"name": "node", "hosts": ["n1"], "port": "x"}, "not 1-65535"),
        ({"hosts": ["n1"], "port": 9100}, "expected {name, hosts, port"),
    ],
)
def test_scrape_config_refuses_bad_jobs(job, message):
    with pytest.raises(AnsibleFilterError, match=message):
        scrape_config(job)


def test_minio_prometheus_token_is_a_verifiable_hs512_jwt():
    token = minio_prometheus_token("prom", "s3cr3t-key", 4102444800)
    header, claims, signature = token.split(".")

    def decode(part):
        return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))

    assert json.loads(decode(header)) == {"alg": "HS512", "typ": "JWT"}
    assert json.loads(decode(claims)) == {"exp": 4102444800, "sub": "prom", "iss": "prometheus"}
    expected = hmac.new(b"s3cr3t-key", f"{header}.{claims}".encode(), hashlib.sha512).digest()
    assert decode(signature) == expected
    assert minio_prometheus_token("prom", "s3cr3t-key", 4102444800) == token
    assert minio_prometheus_token("prom", "other", 4102444800) != token


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("", "k", 1), "access_key"),
        (("a", None, 1), "secret_key"),
        (("a", "k", "soon"), "Unix seconds"),
        (("a", "k", True), "Unix"),
    ],
)
def test_minio_prometheus_token_refuses_bad_input(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        minio_prometheus_token(*args)


def test_ipv4_source_problems_accepts_addresses_and_networks():
    assert ipv4_source_problems(["10.0.0.0/8", "192.168.4.7", "10.231.60.1/32"]) == []


def test_ipv4_source_problems_names_each_bad_entry():
    problems = ipv4_source_problems(["10.0.0.5/8", "10.0.0.0/33", "fd00::/8", "lan", "10.0.0.0/8"])
    assert len(problems) == 4
    assert problems[0].startswith("'10.0.0.5/8'") and "host bits" in problems[0]
    assert ipv4_source_problems("10.0.0.0/8") == ["expected a list of IPv4 addresses or networks, got '10.0.0.0/8'"]


def test_ipv4_covered():
    assert ipv4_covered("10.231.60.1", ["192.168.0.0/16", "10.231.60.1"])
    assert ipv4_covered("10.231.60.99", ["10.231.0.0/16"])
    assert not ipv4_covered("10.232.0.1", ["10.231.0.0/16"])
    assert not ipv4_covered("not-an-address", ["0.0.0.0/0"])
    assert not ipv4_covered("10.0.0.1", [])


def test_nft_source_sets_reads_what_ipv4_source_sets_configures():
    configured = {
        "cluster": ["10.231.60.21", "10.231.60.22", "10.231.60.23"],
        "trusted": [],
        "clients": ["10.0.0.0/8", "10.231.0.0/16", "192.168.4.7/32"],
    }
    # what nft 1.0.6 lists for that ruleset: adjacent addresses merged into a range, the
    # covered network gone, a /32 as a bare address
    loaded = {
        "nftables": [
            {"metainfo": {"version": "1.0.6"}},
            {"table": {"family": "inet", "name": "datalake_fb"}},
            {"set": {"name": "cluster", "type": "ipv4_addr", "elem": [{"range": ["10.231.60.21", "10.231.60.23"]}]}},
            {"set": {"name": "trusted", "type": "ipv4_addr"}},
            {
                "set": {
                    "name": "clients",
                    "type": "ipv4_addr",
                    "elem": [{"prefix": {"addr": "10.0.0.0", "len": 8}}, "192.168.4.7"],
                }
            },
            {"chain": {"name": "input"}},
        ]
    }
    expected = ipv4_source_sets(configured)
    assert expected == {
        "cluster": ["10.231.60.21/32", "10.231.60.22/31"],
        "trusted": [],
        "clients": ["10.0.0.0/8", "192.168.4.7/32"],
    }
    assert nft_source_sets(loaded) == expected
    loaded["nftables"][2]["set"]["elem"] = ["10.231.60.21"]
    assert nft_source_sets(loaded) != expected
    with pytest.raises(AnsibleFilterError, match="expected the JSON of nft"):
        nft_source_sets({"error": "no such table"})


def _nft_rule(source, ports):
    """An input rule as `nft --json` shows it: from a source set, to TCP ports, accepted."""
    return {
        "rule": {
            "chain": "input",
            "expr": [
                {"match": {"op": "==", "left": {"payload": {"protocol": "ip", "field": "saddr"}}, "right": source}},
                {"match": {"op": "==", "left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": ports}},
                {"accept": None},
            ],
        }
    }


def test_security_audit_findings_names_each_problem_and_counts_the_checks():
    client_rules = [_nft_rule("@admins", 22), _nft_rule("@clients", {"set": [3307, 9092, {"range": [9000, 9001]}]})]
    drop = json.dumps(
        {
            "nftables": [
                {"metainfo": {}},
                {"chain": {"name": "input", "policy": "drop"}},
                _nft_rule("@cluster", 9083),
                *client_rules,
            ]
        }
    )
    metastore_open = json.dumps(
        {
            "nftables": [
                {"chain": {"name": "input", "policy": "drop"}},
                *client_rules,
                _nft_rule("@admins", {"set": [9084]}),
            ]
        }
    )
    accept = json.dumps({"nftables": [{"chain": {"name": "input", "policy": "accept"}}]})
    report = {
        "nodes": {
            "n1": {
                "exposure": [],
                "firewall": {"rc": 0, "stdout": drop},
                "cluster_ports": [9083, 9084, 9093],
                "mariadb_accounts": [],
                "mariadb_any_host": ["hive@%"],
            },
            "n4": {
                "exposure": [],
                "firewall": {"rc": 0, "stdout": metastore_open},
                "cluster_ports": [9001, 9083, 9084],
            },
            "n2": {
                "exposure": [{"check": "process", "where": "pid 7", "secret": "spark_authenticate_secret"}],
                "firewall": {"rc": 0, "stdout": accept},
                "mariadb_accounts": ["@localhost"],
                "mariadb_any_host": [],
            },
            "n3": {"exposure": [], "firewall": {"rc": 1, "stdout": "", "stderr": "No such file or directory"}},
        },
        "clients": {
            "kafka": {
                "n1:9092": "accepted: listed 3 topics",
                "n2:9092": "refused: NoBrokersAvailable",
                "n3:9092": "probe error: KafkaConfigurationError: Unrecognized configs",
            },
            "mariadb": {"vip:3307": {"root": "refused: 1045", "(anonymous)": "accepted"}},
            "s3": {"http://vip:9010/": 403, "http://vip:9010/warehouse": 200},
            "web": {"http://vip:80/": 401, "http://vip:8088/": 200},
            "sql": {
                "rc": 2,
                "output": "Peer indicated failure: Error validating the login",
                "endpoint": "jdbc:hive2://vip",
            },
            "tls": {
                "vip:10001": "TLSv1.3",
                "vip:3307": "TLSv1",
                "n1:9092": "plaintext: TimeoutError",
                "n2:9092": "TLSv1.3 unverified: certificate has expired",
            },
        },
    }
    result = security_audit_findings(report)
    failed = {(item["check"], item["where"]) for item in result["findings"]}
    assert failed == {
        ("secrets_not_exposed", "n2"),
        ("firewall_refuses_by_default", "n2"),
        ("firewall_refuses_by_default", "n3"),
        ("mariadb_accounts_have_passwords", "n2"),
        ("mariadb_accounts_limited_to_hosts", "n1"),
        ("kafka_refuses_anonymous", "n1:9092"),
        ("kafka_refuses_anonymous", "n3:9092"),
        ("mariadb_refuses_empty_password", "vip:3307"),
        ("cluster_ports_closed_to_clients", "n3"),
        ("cluster_ports_closed_to_clients", "n4"),
        ("s3_refuses_anonymous", "http://vip:9010/warehouse"),
        ("web_ui_asks_for_login", "http://vip:8088/"),
        ("client_endpoint_speaks_tls", "vip:3307"),
        ("client_endpoint_speaks_tls", "n1:9092"),
        ("client_certificate_valid", "n2:9092"),
    }
    # only the endpoints that speak TLS have a certificate to check
    assert result["checks"]["client_certificate_valid"] == {"passed": 1, "failed": 1}
    assert result["checks"]["sql_refuses_without_password"] == {"passed": 1, "failed": 0}
    assert result["checks"]["firewall_refuses_by_default"] == {"passed": 2, "failed": 2}
    # n1's metastore port is open to the cluster only; n4's to admins, and a range holds 9001
    assert result["checks"]["cluster_ports_closed_to_clients"] == {"passed": 2, "failed": 2}
    assert "open to clients: [9001, 9084]" in [item["detail"] for item in result["findings"] if item["where"] == "n4"]
    assert "firewall not loaded" in [item["detail"] for item in result["findings"] if item["where"] == "n3"]
    # n3 is no MariaDB node: no account check counted for it
    assert result["checks"]["mariadb_accounts_limited_to_hosts"] == {"passed": 1, "failed": 1}
    assert "spark_authenticate_secret in process pid 7" in next(
        item["detail"] for item in result["findings"] if item["check"] == "secrets_not_exposed"
    )
    # a login the endpoint let through is a finding, and so is one refused for another reason
    # a rule that accepts clients on any port opens the cluster's ports too
    anything = {"rule": {"expr": [_nft_rule("@clients", 1)["rule"]["expr"][0], {"accept": None}]}}
    node = {"firewall": {"rc": 0, "stdout": json.dumps({"nftables": [anything]})}, "cluster_ports": [9083]}
    assert security_audit_findings({"nodes": {"n": node}})["checks"]["cluster_ports_closed_to_clients"]["failed"] == 1
    for sql in ({"rc": 0, "output": "1"}, {"rc": 1, "output": "Connection refused"}):
        checks = security_audit_findings({"clients": {"sql": sql}})["checks"]
        assert checks["sql_refuses_without_password"] == {"passed": 0, "failed": 1}


def kafka_round(produce, consume_rate, passed=True):
    return [
        {"name": "produce_acks_all", "passed": passed, "figure": produce, "unit": "msg/s", "detail": ""},
        {
            "name": "consume_all",
            "passed": True,
            "figure": 100,
            "unit": "messages",
            "detail": f"100/100 received, 0 duplicates, {consume_rate} msg/s",
        },
    ]


def test_kafka_check_rates_are_medians_of_the_rounds():
    rates = kafka_check_rates([kafka_round(900, 3000), kafka_round(1000, 2000), kafka_round(1200, 2500, passed=False)])
    assert rates == {
        "produce": [900, 1000, 1200],
        "consume": [3000, 2000, 2500],
        "produce_median": 1000,
        "consume_median": 2500,
        "all_passed": False,
    }
    assert kafka_check_rates([kafka_round(900, 3000), kafka_round(1000, 2000)])["produce_median"] == 950


def test_kafka_check_rates_refuse_a_round_that_did_not_get_through():
    with pytest.raises(AnsibleFilterError, match="did not get through"):
        kafka_check_rates([[{"name": "kafka_validation_completed", "passed": False, "figure": None}]])


def beeline_session(endpoint, delta, *seconds, rc=0):
    timed = "".join(f"+----+\n2 rows selected ({value} seconds)\n" for value in seconds)
    return {
        "item": [0, endpoint],
        "rc": rc,
        "delta": delta,
        "stdout": "dept-1,200\n",
        "stderr": "Connecting...\n" + timed,
    }


def test_beeline_timings_are_per_endpoint_with_medians():
    timings = beeline_timings(
        [
            beeline_session("tls", "0:00:12.500000", 0.9, 0.5, 0.7),
            beeline_session("plain", "0:00:11.000000", 0.6, 0.4, 0.5),
            beeline_session("tls", "0:01:02.250000", 0.4, 0.6, 1.0),
        ],
        3,
    )
    assert timings["tls"] == {
        "query_seconds": [0.9, 0.5, 0.7, 0.4, 0.6, 1.0],
        "session_seconds": [12.5, 62.25],
        "query_seconds_median": 0.65,
        "session_seconds_median": 37.375,
    }
    assert timings["plain"]["query_seconds_median"] == 0.5 and timings["plain"]["session_seconds"] == [11.0]


@pytest.mark.parametrize(
    "session",
    [
        beeline_session("tls", "0:00:05.000000", 0.5, 0.5),
        beeline_session("plain", "0:00:05.000000", 0.5, 0.5, 0.5, rc=1),
    ],
)
def test_beeline_timings_refuse_a_session_that_did_not_run_every_query(session):
    with pytest.raises(AnsibleFilterError, match="did not run its 3 queries"):
        beeline_timings([session], 3)
