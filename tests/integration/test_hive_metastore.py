"""Hive Metastore on a lab node: the service, the complete lock/transaction schema, and real
metastore calls made from the controller with the collection's Thrift client."""

import pytest

from ansible_collections.datalake_fb.platform.plugins.module_utils.hive_metastore import HiveMetastore
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


def test_metastore_answers_from_the_controller(node):
    with HiveMetastore(node["ip"], 9083, timeout=20) as metastore:
        assert "default" in metastore.databases()
        default = metastore.database("default")
    assert default["location_uri"] == "s3a://warehouse/"


def test_unknown_database_is_a_metastore_error(node):
    with (
        HiveMetastore(node["ip"], 9083, timeout=20) as metastore,
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
