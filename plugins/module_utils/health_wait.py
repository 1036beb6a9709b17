# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""The bounded wait shared by the *_cluster_info / *_info health-gate modules.

A gate's timeout is its real bound: every read gets at most the time left, and the last read
happens before the deadline, so a down service cannot stretch the wait by its own timeouts.
"""

from __future__ import annotations

import time

POLL_INTERVAL = 2


def wait_until_healthy(read, wait_timeout, timeout, clock=time.monotonic, sleep=time.sleep):
    """Call read(request_timeout) -> (summary, problems) until no problem is left or the time is up.

    wait_timeout 0 reads once. Returns (summary, problems, seconds waited).
    """
    started = clock()
    deadline = started + wait_timeout
    while True:
        left = max(0.5, deadline - clock()) if wait_timeout else timeout
        summary, problems = read(min(timeout, left))
        if not problems or clock() + POLL_INTERVAL >= deadline:
            return summary, problems, round(clock() - started, 1)
        sleep(POLL_INTERVAL)


def report(module, what, summary, problems, waited):
    """Exit with the summary, or fail naming the problems when a wait was asked for and timed out."""
    wait_timeout = module.params["wait_timeout"]
    if problems and wait_timeout:
        module.fail_json(
            msg=f"{what} not healthy after {wait_timeout} s: {'; '.join(problems)}",
            problems=problems,
            waited=waited,
            **(summary or {}),
        )
    module.exit_json(changed=False, problems=problems, waited=waited, **(summary or {}))
