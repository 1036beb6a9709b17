"""zookeeper_info: ensemble rules, the bounded wait, and a real `srvr` exchange with a fake server."""

import socket
import threading

import pytest

from ansible_collections.datalake_fb.platform.plugins.modules import zookeeper_info as zi


def test_one_leader_and_followers_is_complete():
    assert zi.ensemble_problems({"a": "leader", "b": "follower", "c": "follower"}) == ("a", [])
    assert zi.ensemble_problems({"a": "standalone"}) == ("a", [])


def test_problems_name_missing_servers_and_leaders():
    leader, problems = zi.ensemble_problems({"a": "leader", "b": "unreachable", "c": "follower"})
    assert leader == "a" and problems == ["not in the quorum: b unreachable"]
    leader, problems = zi.ensemble_problems({"a": "unreachable", "b": "unreachable"})
    assert leader is None and problems[0] == "0 leaders"


def test_wait_is_bounded():
    now = [0.0]

    def read(server, timeout):
        now[0] += timeout
        return "unreachable"

    params = {"servers": ["a:1", "b:1"], "timeout": 3, "wait_timeout": 10}
    _summary, problems, waited = zi.wait_for_ensemble(
        params, read=read, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    assert problems and waited <= 10 + 3


@pytest.fixture
def fake_zookeeper():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()

    def serve():
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                if conn.recv(4) == b"srvr":
                    conn.sendall(
                        b"Zookeeper version: 3.8.0\nLatency min/avg/max: 0/0.0/0\nMode: leader\nNode count: 5\n"
                    )

    threading.Thread(target=serve, daemon=True).start()
    yield f"127.0.0.1:{server.getsockname()[1]}"
    server.close()


def test_module_talks_to_a_real_socket(fake_zookeeper, run_module):
    outcome, result = run_module(zi.main, {"servers": [fake_zookeeper], "wait_timeout": 3})
    assert outcome == "exit" and result["leader"] == fake_zookeeper and not result["changed"]
    outcome, result = run_module(zi.main, {"servers": [fake_zookeeper, "127.0.0.1:1"], "wait_timeout": 2})
    assert outcome == "fail" and "127.0.0.1:1 unreachable" in result["msg"]
