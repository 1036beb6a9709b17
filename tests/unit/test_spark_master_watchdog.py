"""The spark role's master watchdog (roles/spark/files/spark-master-watchdog.py)."""

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "spark_master_watchdog", Path(__file__).resolve().parents[2] / "roles/spark/files/spark-master-watchdog.py"
)
watchdog = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(watchdog)


def run(states, limit=30, poll=10):
    """Feed one state per poll; return the polls (0-based) at which the master was restarted."""
    since, restarts = None, []
    for poll_number, state in enumerate(states):
        since, restart = watchdog.watch(state, since, poll_number * poll, limit)
        if restart:
            restarts.append(poll_number)
    return restarts


def test_a_master_stuck_in_recovery_is_restarted_after_the_limit_and_watched_again():
    assert run(["COMPLETING_RECOVERY"] * 10) == [4, 9]


def test_recovery_states_count_together():
    assert run(["RECOVERING", "RECOVERING", "COMPLETING_RECOVERY", "COMPLETING_RECOVERY", "COMPLETING_RECOVERY"]) == [4]


def test_a_takeover_that_completes_in_time_is_left_alone():
    assert run(["RECOVERING", "COMPLETING_RECOVERY", "ALIVE", "RECOVERING", "ALIVE"] * 3) == []


def test_standby_alive_and_unreachable_masters_are_never_restarted():
    assert run(["STANDBY", "ALIVE", None] * 10) == []
