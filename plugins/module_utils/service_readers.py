# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Reads of the services' own status interfaces and the rules that judge them, shared by the
health-gate modules (zookeeper_info, spark_cluster_info) and failover_check.

Each read_* does one bounded request and never raises for a service that does not answer; each
judging function is pure, so the rules are unit-tested without the services.
"""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request


def read_mode(server, timeout):
    """The Mode line of a server's `srvr` reply, or "unreachable"."""
    host, _, port = server.rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=timeout) as conn:
            conn.sendall(b"srvr")
            reply = b""
            while chunk := conn.recv(4096):
                reply += chunk
    except (OSError, ValueError):
        return "unreachable"
    for line in reply.decode("utf-8", "replace").splitlines():
        if line.startswith("Mode:"):
            return line.split(":", 1)[1].strip()
    return "unreachable"


def ensemble_problems(modes):
    """(leader, problems) for {server: mode}."""
    leaders = [server for server, mode in modes.items() if mode in ("leader", "standalone")]
    problems = []
    if len(leaders) != 1:
        problems.append(f"{len(leaders)} leaders")
    others = [f"{server} {mode}" for server, mode in modes.items() if mode not in ("leader", "standalone", "follower")]
    if others:
        problems.append(f"not in the quorum: {', '.join(others)}")
    return (leaders[0] if len(leaders) == 1 else None), problems


def read_master(address, timeout):
    """The /json/ document of one master, or None when it does not answer."""
    try:
        with urllib.request.urlopen(f"http://{address}/json/", timeout=timeout) as reply:
            return json.loads(reply.read().decode("utf-8"))
    except (OSError, ValueError):
        return None


def summarize(documents, expected_workers, expected_apps):
    """Cluster state from {master: document or None}: (summary, problems)."""
    states = {master: (doc or {}).get("status", "unreachable") for master, doc in documents.items()}
    alive = [master for master, state in states.items() if state == "ALIVE"]
    summary = {"alive_master": alive[0] if len(alive) == 1 else None, "masters": states, "workers": [], "apps": []}
    problems = []
    if len(alive) != 1:
        problems.append(f"{len(alive)} ALIVE masters ({', '.join(f'{m} {s}' for m, s in states.items())})")
        return summary, problems
    # a standby that does not answer cannot take over: the next restart of the ALIVE one would
    # leave no master
    down = [f"{m} {s}" for m, s in states.items() if s not in ("ALIVE", "STANDBY")]
    if down:
        problems.append(f"standby masters not ready: {', '.join(down)}")
    doc = documents[alive[0]]
    summary["workers"] = [
        {"host": w.get("host"), "state": w.get("state"), "cores": w.get("cores")} for w in doc.get("workers", [])
    ]
    summary["apps"] = [{"name": a.get("name"), "state": a.get("state")} for a in doc.get("activeapps", [])]
    alive_hosts = {w["host"] for w in summary["workers"] if w["state"] == "ALIVE"}
    missing = [host for host in expected_workers if host not in alive_hosts]
    if missing:
        problems.append(f"workers not ALIVE on {alive[0]}: {', '.join(missing)}")
    running = {a["name"] for a in summary["apps"] if a["state"] == "RUNNING"}
    absent = [name for name in expected_apps if name not in running]
    if absent:
        problems.append(f"applications not RUNNING: {', '.join(absent)}")
    return summary, problems


def read_http_status(url, timeout):
    """The HTTP status of a GET, or None when nothing answers."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an HTTP URL: {url}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:  # noqa: S310 (scheme checked above)
            return reply.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError):
        return None


def minio_problems(live, write_quorum):
    """(status, problems) for {node: HTTP status of /minio/health/live} and the cluster check's status."""
    if write_quorum != 200:
        return "down", [f"no write quorum (cluster health answered {write_quorum or 'nothing'})"]
    dead = [f"{node} {code or 'unreachable'}" for node, code in live.items() if code != 200]
    return ("degraded", [f"nodes not live: {', '.join(dead)}"]) if dead else ("healthy", [])


GALERA_STATUS = ("wsrep_ready", "wsrep_local_state_comment", "wsrep_cluster_status", "wsrep_cluster_size")


def galera_problems(statuses, expected_size):
    """(status, problems) for {node: {wsrep variable: value} or None (unreachable)}.

    Down when no node is Synced in a Primary component (nothing accepts writes); degraded when
    any node is unreachable, not ready, not Synced, or sees fewer members than expected.
    """
    healthy = {"wsrep_ready": "ON", "wsrep_local_state_comment": "Synced", "wsrep_cluster_status": "Primary"}
    serving = [
        node for node, status in statuses.items() if status and all(status.get(k) == v for k, v in healthy.items())
    ]
    if not serving:
        return "down", [f"no node Synced in a Primary component ({describe_galera(statuses)})"]
    short = [
        node
        for node, status in statuses.items()
        if not status or str(status.get("wsrep_cluster_size")) != str(expected_size)
    ]
    lagging = [node for node in statuses if node not in serving]
    problems = []
    if lagging:
        problems.append(f"nodes not serving: {describe_galera({node: statuses[node] for node in lagging})}")
    if short and not lagging:
        problems.append(f"cluster size is not {expected_size} on {', '.join(short)}")
    return ("degraded" if problems else "healthy"), problems


def describe_galera(statuses):
    return ", ".join(
        f"{node} {status.get('wsrep_local_state_comment')}/{status.get('wsrep_cluster_status')}"
        f" size {status.get('wsrep_cluster_size')}"
        if status
        else f"{node} unreachable"
        for node, status in statuses.items()
    )


def metastore_problems(answers):
    """(status, problems) for {metastore: True when it listed its databases}."""
    silent = [node for node, ok in answers.items() if not ok]
    if len(silent) == len(answers):
        return "down", [f"no metastore answers ({', '.join(silent)})"]
    return ("degraded", [f"metastores not answering: {', '.join(silent)}"]) if silent else ("healthy", [])


def vip_problems(vip, node_addresses):
    """(holder or None, status, problems) for the VIP and {node: [its addresses]}: exactly one holder."""
    holders = [node for node, addresses in node_addresses.items() if vip in addresses]
    if len(holders) == 1:
        return holders[0], "healthy", []
    if not holders:
        return None, "down", [f"no node holds the VIP {vip}"]
    return None, "down", [f"the VIP {vip} is held by {len(holders)} nodes at once: {', '.join(holders)}"]
