"""The mariadb role's Galera clustercheck (roles/mariadb/files/galera-clustercheck.py)."""

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "galera_clustercheck", Path(__file__).resolve().parents[2] / "roles/mariadb/files/galera-clustercheck.py"
)
clustercheck = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(clustercheck)

SYNCED = {"wsrep_ready": "ON", "wsrep_local_state_comment": "Synced", "wsrep_cluster_status": "Primary"}


def test_a_synced_primary_node_takes_writes():
    assert clustercheck.judge(SYNCED) == (200, "Synced")


def test_joining_donor_and_non_primary_nodes_do_not():
    assert clustercheck.judge({**SYNCED, "wsrep_local_state_comment": "Donor/Desynced"}) == (
        503,
        "not ready for writes: wsrep_local_state_comment=Donor/Desynced",
    )
    assert clustercheck.judge({**SYNCED, "wsrep_cluster_status": "non-Primary", "wsrep_ready": "OFF"}) == (
        503,
        "not ready for writes: wsrep_ready=OFF, wsrep_cluster_status=non-Primary",
    )
    assert clustercheck.judge({}) == (
        503,
        "not ready for writes: wsrep_ready=missing, wsrep_local_state_comment=missing, wsrep_cluster_status=missing",
    )


def test_a_server_that_does_not_answer_is_down():
    assert clustercheck.judge(None) == (503, "the server does not answer")
