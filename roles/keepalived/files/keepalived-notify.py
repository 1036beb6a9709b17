#!/usr/bin/python3
"""Keepalived notify hook: append each VRRP transition of this node as one JSON line.

Keepalived runs it as `keepalived-notify [--metrics PROM] FILE TYPE NAME STATE PRIORITY` on every
state change; the line holds the time, the node, the old and the new state, so the failover check
and the monitoring can tell when and where the VIP moved. The last state is kept next to FILE.

With --metrics, the node exporter's text file PROM is rewritten from FILE after each transition:
whether this node holds each VRRP instance, how often it took it and when its state last changed.
`--refresh` rewrites PROM from FILE alone (no transition), printing `written` or `unchanged`: the
role runs it so that a text file lost or added after the last transition is there again.

Usage: keepalived-notify [--metrics PROM] FILE TYPE NAME STATE [PRIORITY]
       keepalived-notify --metrics PROM --refresh FILE
"""

import argparse
import json
import os
import socket
import sys
import tempfile
import time
from pathlib import Path


def transition(previous, event, node, now):
    """The record of one transition: event is keepalived's (TYPE, NAME, STATE[, PRIORITY]).

    previous is the last state written, or None.
    """
    kind, name, state = event[:3]
    priority = event[3] if len(event) > 3 else None
    return {
        "time": round(now, 3),
        "node": node,
        "type": kind,
        "instance": name,
        "old_state": previous,
        "new_state": state,
        "priority": int(priority) if priority and priority.isdigit() else None,
    }


def metrics(records):
    """The text-file metrics of a node's transition records (oldest first), per VRRP instance."""
    instances = {}
    for record in records:
        if record.get("type") != "INSTANCE":
            continue
        seen = instances.setdefault(record["instance"], {"state": None, "took": 0, "time": 0})
        seen["state"] = record["new_state"]
        seen["time"] = record["time"]
        seen["took"] += record["new_state"] == "MASTER"
    families = [
        ("keepalived_vrrp_master", "gauge", "Whether this node holds the VRRP instance's VIP.", "state"),
        ("keepalived_vrrp_became_master_total", "counter", "Times this node took the VRRP instance's VIP.", "took"),
        ("keepalived_vrrp_last_transition_timestamp_seconds", "gauge", "When this node's state last changed.", "time"),
    ]
    lines = []
    for name, kind, help_text, key in families:
        lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
        for instance, seen in sorted(instances.items()):
            value = int(seen["state"] == "MASTER") if key == "state" else seen[key]
            lines.append(f'{name}{{vrrp_instance="{instance}"}} {value}')
    return "\n".join(lines) + "\n"


def read_records(path):
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_metrics(prom, text):
    """Replace prom with text atomically (the node exporter never reads half a file); False if equal."""
    if prom.exists() and prom.read_text(encoding="utf-8") == text:
        return False
    fd, tmp = tempfile.mkstemp(dir=prom.parent, prefix=".keepalived.")
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, prom)
    return True


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--metrics", type=Path, help="the node exporter text file to rewrite")
    parser.add_argument("--refresh", action="store_true", help="only rewrite the text file from FILE")
    parser.add_argument("file", type=Path)
    parser.add_argument("event", nargs="*")
    args = parser.parse_args(argv)
    if args.refresh and not args.metrics:
        parser.error("--refresh needs --metrics")
    if not args.refresh:
        if len(args.event) < 3:
            parser.error("TYPE NAME STATE are required")
        last = args.file.with_name(args.file.name + ".state")
        previous = last.read_text().strip() if last.exists() else None
        record = transition(previous or None, args.event, socket.gethostname(), time.time())
        with args.file.open("a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
        last.write_text(record["new_state"] + "\n")
    if args.metrics:
        written = write_metrics(args.metrics, metrics(read_records(args.file)))
        if args.refresh:
            print("written" if written else "unchanged")


if __name__ == "__main__":
    sys.exit(main())
