#!/usr/bin/python3
"""Restart a Spark standalone master that stays in recovery.

A master that takes over through ZooKeeper moves RECOVERING -> COMPLETING_RECOVERY -> ALIVE. When
an exception is thrown while it completes the recovery (SPARK-20305, still in Spark 3.5: removing a
worker whose ZooKeeper node another master already deleted raises NoNodeException), it stays in
COMPLETING_RECOVERY for good and the cluster schedules nothing. Restarting it gives the leadership
to another master, which recovers from ZooKeeper's current state.

Usage: spark-master-watchdog URL LIMIT_SECONDS UNIT
"""

import json
import subprocess
import sys
import time
import urllib.request

POLL_SECONDS = 10
RECOVERY_STATES = ("RECOVERING", "COMPLETING_RECOVERY")


def status(url):
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:  # noqa: S310 (the unit's own http URL)
            return json.loads(reply.read().decode("utf-8")).get("status")
    except (OSError, ValueError):
        return None


def watch(state, since, now, limit):
    """One poll: (since when the master has been in recovery or None, whether to restart it now)."""
    if state not in RECOVERY_STATES:
        return None, False
    since = now if since is None else since
    if now - since > limit:
        return None, True
    return since, False


def main():
    url, limit, unit = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    since = None
    while True:
        state = status(url)
        now = time.monotonic()
        stuck_for = now - (since or now)
        since, restart = watch(state, since, now, limit)
        if restart:
            print(f"{unit} has been {state} for {stuck_for:.0f} s (limit {limit:.0f} s): restarting it", flush=True)
            subprocess.run(["/usr/bin/systemctl", "restart", unit], check=False)  # noqa: S603 (the unit named by our own service file)
        time.sleep(POLL_SECONDS)


if __name__ == "__main__":
    main()
