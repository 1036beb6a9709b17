#!/usr/bin/python3
"""Keepalived notify hook: append each VRRP transition of this node as one JSON line.

Keepalived runs it as `keepalived-notify FILE TYPE NAME STATE PRIORITY` on every state change;
the line holds the time, the node, the old and the new state, so the failover check and the
monitoring can tell when and where the VIP moved. The last state is kept next to FILE.

Usage: keepalived-notify FILE TYPE NAME STATE [PRIORITY]
"""

import json
import socket
import sys
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


def main():
    path, event = Path(sys.argv[1]), sys.argv[2:]
    last = path.with_name(path.name + ".state")
    previous = last.read_text().strip() if last.exists() else None
    record = transition(previous or None, event, socket.gethostname(), time.time())
    with path.open("a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
    last.write_text(record["new_state"] + "\n")


if __name__ == "__main__":
    main()
