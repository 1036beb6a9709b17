"""Hive Metastore on a lab node: the service, the complete lock/transaction schema, and real
metastore calls made from the controller with the collection's Thrift client, over TLS with the
node's certificate and name checked against the project CA."""

import pytest

from ansible_collections.datalake_fb.platform.plugins.module_utils.hive_metastore import HiveMetastore, tls_context
from ansible_collections.datalake_fb.platform.plugins.module_utils.thrift_binary import ThriftError

TXN_TABLES = {
    "AUX_TABLE",
    "COMPACTION_QUEUE",
    "COMPLETED_COMPACTIONS",
    "COMPLETED_TXN_COMPONENTS",
    "HIVE_LOCKS",
    "NEXT_COMPACTION_QUEUE_ID",
    "NEXT_LOCK_ID",
    "NEXT_TXN_ID",
    "TXNS",
    "TXN_COMPONENTS",
    "WRITE_SET",
}


def test_service_runs_as_hive(host):
    service = host.service("hive-metastore")
    assert service.is_running and service.is_enabled
    assert host.process.get(comm="java", user="hive")
    assert host.socket("tcp://0.0.0.0:9083").is_listening


@pytest.fixture(scope="module")
def tls(host, tmp_path_factory):
    """TLS that trusts the project CA, as the node has it."""
    ca_file = tmp_path_factory.mktemp("ca") / "ca.crt"
    ca_file.write_text(host.file("/etc/datalake/tls/ca.crt").content_string)
    return tls_context(str(ca_file))


def test_metastore_answers_from_the_controller_over_tls(node, tls):
    with HiveMetastore(node["ip"], 9083, 20, tls) as metastore:
        assert "default" in metastore.databases()
        default = metastore.database("default")
    assert default["location_uri"] == "s3a://warehouse/"


def test_plaintext_gets_a_tls_alert_not_an_answer(node):
    # a TLS record of type 21 (alert) where a Thrift reply would begin
    with (
        HiveMetastore(node["ip"], 9083, 20) as metastore,
        pytest.raises(ThriftError, match="bad Thrift message header 0x1503"),
    ):
        metastore.databases()


def test_tls_1_2_and_1_3_with_the_certificate_verified(host):
    """openssl on the node completes both handshakes and verifies the chain and the name."""
    check = "openssl s_client -connect 127.0.0.1:9083 -CAfile /etc/datalake/tls/ca.crt -verify_return_error"
    for version in ("-tls1_2", "-tls1_3"):
        shown = host.run(f"{check} -verify_ip 127.0.0.1 {version} </dev/null")
        assert shown.rc == 0 and "Verify return code: 0 (ok)" in shown.stdout, shown.stdout + shown.stderr


def test_unknown_database_is_a_metastore_error(node, tls):
    with (
        HiveMetastore(node["ip"], 9083, 20, tls) as metastore,
        pytest.raises(ThriftError, match="NoSuchObjectException"),
    ):
        metastore.database("no_such_database_here")


def test_lock_and_transaction_tables_exist_with_their_sequences(host):
    tables = set(host.run("mysql -N -e 'SHOW TABLES' metastore").stdout.split())
    assert TXN_TABLES <= tables, TXN_TABLES - tables
    for table, column in (("NEXT_LOCK_ID", "NL_NEXT"), ("NEXT_TXN_ID", "NTXN_NEXT")):
        assert int(host.run(f"mysql -N -e 'SELECT {column} FROM {table}' metastore").stdout) >= 1


def test_secrets_file_is_private(host):
    site = host.file("/etc/hive-metastore/hive-site.xml")
    assert site.mode == 0o640 and site.user == "root" and site.group == "hive"
    assert "javax.jdo.option.ConnectionPassword" in site.content_string
    assert "hive.metastore.keystore.password" in site.content_string
