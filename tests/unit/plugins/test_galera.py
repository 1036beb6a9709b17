"""Galera start planning: never a second primary, never a guess, the most advanced node first."""

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.datalake_fb.platform.plugins.filter.datalake import galera_node_state, galera_plan
from ansible_collections.datalake_fb.platform.plugins.module_utils import galera

UUID = "5ee99582-bb8d-11e2-b8e3-23de375c1d30"


def node(host, **state):
    return {"host": host, "reachable": True, "running": False, "uuid": None, "seqno": None, **state}


def stopped(host, seqno, safe=0, uuid=UUID):
    return node(host, uuid=uuid, seqno=seqno, safe_to_bootstrap=safe)


def primary(host):
    return node(host, running=True, wsrep_on=True, cluster_status="Primary", uuid=UUID, seqno=-1)


def test_a_new_cluster_bootstraps_its_first_node_then_starts_the_others():
    result = galera.plan([node("a"), node("b"), node("c")])
    assert result == {
        "action": "bootstrap",
        "bootstrap": "a",
        "start": ["b", "c"],
        "message": "new cluster: bootstrap a",
    }


def test_a_new_cluster_bootstraps_the_only_node_with_data():
    result = galera.plan([node("a"), node("b", has_data=True), node("c")])
    assert result["bootstrap"] == "b" and result["start"] == ["a", "c"]
    refused = galera.plan([node("a", has_data=True), node("b", has_data=True), node("c")])
    assert refused["action"] == "refuse" and "a, b each hold databases" in refused["message"]


def test_a_degraded_cluster_is_joined_never_bootstrapped():
    result = galera.plan([primary("a"), primary("b"), stopped("c", 40)])
    assert result["action"] == "join" and result["bootstrap"] is None and result["start"] == ["c"]
    assert galera.plan([primary("a"), primary("b"), primary("c")])["action"] == "none"


def test_an_unreachable_node_without_a_visible_primary_is_refused():
    result = galera.plan([stopped("a", 10), stopped("b", 12), node("c", reachable=False)])
    assert result["action"] == "refuse" and "c cannot be read" in result["message"] and "is b" in result["message"]
    # with a visible primary, the unreachable node does not block the others from joining
    assert galera.plan([primary("a"), stopped("b", 3), node("c", reachable=False)])["action"] == "join"


def test_a_non_primary_component_is_refused():
    result = galera.plan(
        [node("a", running=True, wsrep_on=True, cluster_status="non-Primary", uuid=UUID), stopped("b", 1)]
    )
    assert result["action"] == "refuse" and "without a Primary component" in result["message"]


def test_a_fully_stopped_cluster_needs_recovery_and_starts_from_the_highest_seqno():
    states = [stopped("a", 100), stopped("b", 102), stopped("c", 101)]
    refused = galera.plan(states)
    assert refused["action"] == "refuse" and "galera_recover.yml" in refused["message"] and "(b)" in refused["message"]
    result = galera.plan(states, allow_recovery=True)
    assert result["action"] == "bootstrap" and result["bootstrap"] == "b" and result["start"] == ["a", "c"]


def test_ties_prefer_safe_to_bootstrap():
    states = [stopped("a", 7), stopped("b", 7, safe=1), stopped("c", 7)]
    assert galera.plan(states, allow_recovery=True)["bootstrap"] == "b"


def test_unknown_positions_and_foreign_clusters_are_refused():
    assert "unknown" in galera.plan([stopped("a", -1), stopped("b", 5)], allow_recovery=True)["message"]
    mixed = galera.plan([stopped("a", 5), stopped("b", 5, uuid="11111111-bb8d-11e2-b8e3-23de375c1d30")], True)
    assert mixed["action"] == "refuse" and "different clusters" in mixed["message"]


def test_a_new_node_joining_a_stopped_cluster_does_not_become_the_bootstrap_node():
    result = galera.plan([stopped("a", 9), stopped("b", 8), node("c")], allow_recovery=True)
    assert result["bootstrap"] == "a" and result["start"] == ["b", "c"]


def test_node_state_reads_grastate_and_recovered_position():
    grastate = f"# GALERA saved state\nversion: 2.1\nuuid:    {UUID}\nseqno:   -1\nsafe_to_bootstrap: 0\n"
    recovered = f"WSREP: Recovered position {UUID}:1234\n--wsrep_start_position={UUID}:1234"
    state = galera_node_state({"host": "a", "running": False, "grastate": grastate, "recovered": recovered})
    assert state["uuid"] == UUID and state["seqno"] == 1234 and state["safe_to_bootstrap"] == 0
    fresh = galera_node_state({"host": "b", "grastate": None})
    assert fresh["uuid"] is None and fresh["seqno"] is None and fresh["reachable"] is True
    assert galera.parse_recovered_position("nothing") is None


def test_bad_input_is_a_clear_filter_error():
    with pytest.raises(AnsibleFilterError, match="node states"):
        galera_plan([{"nohost": 1}])
    with pytest.raises(AnsibleFilterError, match="with a host"):
        galera_node_state("a")


def test_nodes_without_a_state_count_as_unreachable():
    result = galera_plan([stopped("a", 3), stopped("b", 4)], False, ["a", "b", "c"])
    assert result["action"] == "refuse" and "c cannot be read" in result["message"]
