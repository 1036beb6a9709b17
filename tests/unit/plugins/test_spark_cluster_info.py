"""spark_cluster_info: the health rules, the bounded wait, and real HTTP reads of a fake master."""

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from ansible_collections.datalake_fb.platform.plugins.modules import spark_cluster_info as sci

ALIVE = {
    "status": "ALIVE",
    "workers": [{"host": "n1", "state": "ALIVE", "cores": 4}, {"host": "n2", "state": "DEAD", "cores": 4}],
    "activeapps": [{"name": "spark-thrift-server", "state": "RUNNING"}],
}


def test_one_alive_master_with_its_workers_is_healthy():
    summary, problems = sci.summarize({"m1": ALIVE, "m2": {"status": "STANDBY"}}, ["n1"], ["spark-thrift-server"])
    assert problems == [] and summary["alive_master"] == "m1"
    assert summary["masters"] == {"m1": "ALIVE", "m2": "STANDBY"}


def test_problems_name_missing_workers_apps_and_masters():
    _, problems = sci.summarize({"m1": ALIVE, "m2": None}, ["n1", "n2"], ["etl"])
    assert problems == [
        "standby masters not ready: m2 unreachable",
        "workers not ALIVE on m1: n2",
        "applications not RUNNING: etl",
    ]
    _, problems = sci.summarize({"m1": ALIVE, "m2": {"status": "RECOVERING"}}, ["n1"], [])
    assert problems == ["standby masters not ready: m2 RECOVERING"]
    summary, problems = sci.summarize({"m1": {"status": "STANDBY"}, "m2": None}, [], [])
    assert summary["alive_master"] is None and problems == ["0 ALIVE masters (m1 STANDBY, m2 unreachable)"]
    _, problems = sci.summarize({"m1": ALIVE, "m2": ALIVE}, [], [])
    assert problems[0].startswith("2 ALIVE masters")


def test_wait_is_bounded_by_wait_timeout():
    now = [0.0]
    asked = []

    def read(master, timeout):
        asked.append(timeout)
        now[0] += timeout
        return None

    params = {"masters": ["m1"], "expected_workers": [], "expected_apps": [], "timeout": 5, "wait_timeout": 12}
    summary, problems, waited = sci.wait_for_health(
        params, read=read, clock=lambda: now[0], sleep=lambda s: now.__setitem__(0, now[0] + s)
    )
    assert summary["alive_master"] is None and problems and waited <= 12
    assert max(asked) <= 5


@pytest.fixture
def fake_master():
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            body = json.dumps(ALIVE).encode()
            self.send_response(200 if self.path == "/json/" else 404)
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{server.server_port}"
    server.shutdown()


def test_module_reads_real_masters(fake_master, run_module):
    outcome, result = run_module(sci.main, {"masters": [fake_master], "expected_workers": ["n1"], "wait_timeout": 5})
    assert outcome == "exit" and result["alive_master"] == fake_master and not result["changed"]
    outcome, result = run_module(
        sci.main, {"masters": [fake_master, "127.0.0.1:1"], "expected_workers": ["n1"], "wait_timeout": 2}
    )
    assert outcome == "fail" and "standby masters not ready: 127.0.0.1:1 unreachable" in result["msg"]
    assert result["masters"]["127.0.0.1:1"] == "unreachable"
    outcome, result = run_module(sci.main, {"masters": [fake_master], "expected_workers": ["n2"], "wait_timeout": 3})
    assert outcome == "fail" and "workers not ALIVE" in result["msg"]
    outcome, result = run_module(sci.main, {"masters": [], "wait_timeout": 1})
    assert outcome == "fail" and "must not be empty" in result["msg"]
