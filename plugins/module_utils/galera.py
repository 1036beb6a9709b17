# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Decides how a MariaDB Galera cluster is started, from every node's state, without guessing.

A node's state (what the mariadb role reads on each host):
  host: inventory name; reachable: the play could read it;
  running: mariadbd is active; wsrep_on: it runs with the Galera provider;
  cluster_status: wsrep_cluster_status (Primary / non-Primary / Disconnected) when running;
  uuid, seqno, safe_to_bootstrap: from grastate.dat (seqno from galera_recovery when the file
  says -1 after a crash); None when the node has never been in a cluster (no grastate.dat);
  has_data: it holds databases other than MariaDB's own (read while it ran standalone).

The plan: {action, bootstrap, start, message}
  action none      - nothing to start;
  action join      - a Primary component runs: start the stopped nodes, they join it (IST/SST);
  action bootstrap - start `bootstrap` with galera_new_cluster, then the nodes in `start`;
  action refuse    - starting anything could lose data or make a second primary (message says
                     what to do by hand).
A primary is never bootstrapped while any node may still run one, and an existing cluster that
is fully stopped is only bootstrapped when recovery is asked for (playbooks/galera_recover.yml).
"""

from __future__ import annotations


class GaleraPlanError(ValueError):
    """The node states are malformed."""


def _known_position(state):
    return state.get("uuid") not in (None, "", "00000000-0000-0000-0000-000000000000")


def most_advanced(states):
    """The node to bootstrap from: highest seqno, then safe_to_bootstrap, then inventory order."""
    candidates = [s for s in states if _known_position(s) and s.get("seqno") is not None]
    if not candidates:
        return None
    order = {s["host"]: index for index, s in enumerate(states)}
    return max(candidates, key=lambda s: (int(s["seqno"]), int(s.get("safe_to_bootstrap") or 0), -order[s["host"]]))[
        "host"
    ]


def plan(states, allow_recovery=False):  # noqa: PLR0911 (one return per outcome reads best)
    """How to start the cluster (see the module docstring)."""
    if not isinstance(states, list) or not states or not all(isinstance(s, dict) and "host" in s for s in states):
        raise GaleraPlanError(f"expected a list of node states with a host each, got {states!r}")
    unreachable = [s["host"] for s in states if not s.get("reachable", True)]
    reachable = [s for s in states if s.get("reachable", True)]
    stopped = [s["host"] for s in reachable if not s.get("running")]
    primary = [
        s["host"] for s in reachable if s.get("running") and s.get("wsrep_on") and s.get("cluster_status") == "Primary"
    ]
    non_primary = [
        s["host"] for s in reachable if s.get("running") and s.get("wsrep_on") and s.get("cluster_status") != "Primary"
    ]

    if primary:
        if not stopped:
            return {
                "action": "none",
                "bootstrap": None,
                "start": [],
                "message": f"Primary component on {', '.join(primary)}",
            }
        return {
            "action": "join",
            "bootstrap": None,
            "start": stopped,
            "message": f"{', '.join(stopped)} join the Primary component on {', '.join(primary)}",
        }
    hint = most_advanced(reachable)
    by_hand = (
        f" The most advanced node known is {hint}: bootstrap it by hand (galera_new_cluster) if you are sure."
        if hint
        else ""
    )
    if unreachable:
        return _refuse(
            f"{', '.join(unreachable)} cannot be read and no reachable node runs a Primary component: one of them may"
            f" still hold the cluster.{by_hand}"
        )
    if non_primary:
        return _refuse(
            f"{', '.join(non_primary)} run Galera without a Primary component (split brain or lost quorum);"
            " run playbooks/galera_recover.yml after stopping them, or bootstrap the most advanced node"
            f" by hand.{by_hand}"
        )

    clustered = [s for s in states if _known_position(s)]
    if not clustered:
        with_data = [s["host"] for s in states if s.get("has_data")]
        if len(with_data) > 1:
            return _refuse(
                f"{', '.join(with_data)} each hold databases of their own: joining them would replace all but one"
                " node's data. Keep one (move the others' data there) before forming the cluster."
            )
        first = with_data[0] if with_data else states[0]["host"]
        return {
            "action": "bootstrap",
            "bootstrap": first,
            "start": [s["host"] for s in states if s["host"] != first and not s.get("running")],
            "message": f"new cluster: bootstrap {first}" + (" (it holds the data)" if with_data else ""),
        }

    uuids = sorted({s["uuid"] for s in clustered})
    if len(uuids) > 1:
        return _refuse(f"the nodes belong to different clusters ({', '.join(uuids)}): fix them by hand.{by_hand}")
    unknown = [s["host"] for s in clustered if s.get("seqno") is None or int(s["seqno"]) < 0]
    if unknown:
        return _refuse(
            f"the last committed position of {', '.join(unknown)} is unknown (galera_recovery failed).{by_hand}"
        )
    if not allow_recovery:
        return _refuse(
            f"the whole cluster is stopped; run playbooks/galera_recover.yml to bootstrap the most advanced node"
            f" ({hint}) and start the others."
        )
    return {
        "action": "bootstrap",
        "bootstrap": hint,
        "start": [s["host"] for s in states if s["host"] != hint],
        "message": f"recovery: bootstrap {hint} (seqno {max(int(s['seqno']) for s in clustered)}), then the others",
    }


def _refuse(message):
    return {"action": "refuse", "bootstrap": None, "start": [], "message": message}


def parse_grastate(text):
    """uuid, seqno, safe_to_bootstrap from grastate.dat's text (None for a missing file)."""
    if text is None:
        return {"uuid": None, "seqno": None, "safe_to_bootstrap": 0}
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and not key.startswith("#"):
            values[key.strip()] = value.strip()
    seqno = values.get("seqno")
    return {
        "uuid": values.get("uuid") or None,
        "seqno": int(seqno) if seqno not in (None, "") else None,
        "safe_to_bootstrap": int(values.get("safe_to_bootstrap") or 0),
    }


def parse_recovered_position(output):
    """The seqno galera_recovery prints (--wsrep_start_position=uuid:seqno), or None."""
    for token in (output or "").split():
        if token.startswith("--wsrep_start_position="):
            position = token.split("=", 1)[1]
            uuid, _, seqno = position.rpartition(":")
            try:
                return {"uuid": uuid, "seqno": int(seqno)}
            except ValueError:
                return None
    return None
