"""kafka_connector: the pure config/status rules, and the module against an in-memory Kafka Connect
(the REST routes it uses, 409s and task states on demand) with a fake clock; the HTTP client against a
real loopback server and an unreachable port."""

import base64
import json
import socket
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from ansible.module_utils import basic

from ansible_collections.datalake_fb.platform.plugins.modules import kafka_connector as kc

NAME = "cdc-sales"
PASSWORD = "Db-pa55-w0rd-s3cr3t"
OLD_PASSWORD = "old-Db-pa55-w0rd"
JAAS = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="cdc" password="jaas-pw-42";'
CONFIG = {
    "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
    "tasks.max": 1,
    "database.hostname": "mariadb1",
    "database.port": 3306,
    "database.user": "debezium",
    "database.password": PASSWORD,
    "database.server.id": 184054,
    "topic.prefix": "cdc",
    "include.schema.changes": False,
    "table.include.list": ["sales.vendas", "sales.clientes"],
    "schema.history.internal.producer.sasl.jaas.config": JAAS,
}
STORED = {
    "connector.class": "io.debezium.connector.mariadb.MariaDbConnector",
    "tasks.max": "1",
    "database.hostname": "mariadb1",
    "database.port": "3306",
    "database.user": "debezium",
    "database.password": PASSWORD,
    "database.server.id": "184054",
    "topic.prefix": "cdc",
    "include.schema.changes": "false",
    "table.include.list": "sales.vendas,sales.clientes",
    "schema.history.internal.producer.sasl.jaas.config": JAAS,
    "name": NAME,
}
WRITES = ("POST", "PUT", "DELETE")


def status(connector="RUNNING", *tasks, name=NAME):
    """A status document: the connector's state, then (state, extra fields) or a state per task."""
    task_list = []
    for number, task in enumerate(tasks):
        state, extra = (task, {}) if isinstance(task, str) else task
        task_list.append({"id": number, "state": state, "worker_id": f"10.0.0.{12 + number}:8083", **extra})
    return {
        "name": name,
        "connector": {"state": connector, "worker_id": "10.0.0.11:8083"},
        "tasks": task_list,
        "type": "source",
    }


class FakeClock:
    """time.monotonic and time.sleep of the module: sleeping moves the clock."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []

    def monotonic(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


class FakeConnect:
    """The Connect REST routes the module uses, over in-memory connectors."""

    url = "http://connect.test:8083"

    def __init__(self, clock):
        self.clock = clock
        self.connectors = {}  # name -> stored config (strings)
        self.statuses = []  # status documents to answer in turn (the last one repeats)
        self.validation = None  # the validate reply, or a default without errors
        self.conflicts = 0  # how many requests answer 409 (rebalance) first
        self.fail = {}  # (method, path) -> (code, body)
        self.listed_after_delete = 0  # GETs that still find a deleted connector
        self.request_seconds = 0.0
        self.calls = []  # (method, path, body)
        self.timeouts = []  # (clock at the request, its timeout)

    @property
    def writes(self):
        return [call for call in self.calls if call[0] in WRITES and "/validate" not in call[1]]

    def request(self, method, path, body=None, timeout=None):
        self.calls.append((method, path, body))
        self.timeouts.append((self.clock.now, timeout))
        self.clock.now += self.request_seconds
        if self.conflicts:
            self.conflicts -= 1
            return 409, {"error_code": 409, "message": "Request cannot be completed because a rebalance is expected"}
        if (method, path) in self.fail:
            return self.fail[(method, path)]
        parts = [urllib.parse.unquote(part) for part in path.strip("/").split("/")]
        handler = getattr(self, f"do_{method}")
        return handler(parts, body)

    def missing(self, name):
        return 404, {"error_code": 404, "message": f"Connector {name} not found"}

    def do_GET(self, parts, _body):
        name = parts[1]
        if name not in self.connectors:
            if self.listed_after_delete:
                self.listed_after_delete -= 1
                return 200, {"name": name}
            return self.missing(name)
        if parts[2] == "config":
            return 200, dict(self.connectors[name])
        document = self.statuses.pop(0) if len(self.statuses) > 1 else (self.statuses or [None])[0]
        return 200, document or status("RUNNING", "RUNNING", name=name)

    def do_POST(self, parts, body):
        if parts != ["connectors"]:
            return 405, {"error_code": 405, "message": "HTTP 405 Method Not Allowed"}
        if body["name"] in self.connectors:
            return 409, {"error_code": 409, "message": f"Connector {body['name']} already exists"}
        return self.store(body["name"], body["config"], 201)

    def do_PUT(self, parts, body):
        if parts[0] == "connector-plugins":
            assert parts[1] == body["connector.class"] and parts[2:] == ["config", "validate"]
            return 200, self.validation or {"name": parts[1], "error_count": 0, "groups": [], "configs": []}
        return self.store(parts[1], body, 200 if parts[1] in self.connectors else 201)

    def store(self, name, config, code):
        if any(not isinstance(value, str) for value in config.values()):
            return 500, {"error_code": 500, "message": "Cannot deserialize value of type `java.lang.String`"}
        self.connectors[name] = dict(config)
        return code, {"name": name, "config": config, "tasks": [], "type": "source"}

    def do_DELETE(self, parts, _body):
        if parts[1] not in self.connectors:
            return self.missing(parts[1])
        del self.connectors[parts[1]]
        return 204, None


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(kc, "time", fake)
    return fake


@pytest.fixture
def connect(monkeypatch, clock):
    fake = FakeConnect(clock)
    fake.client_args = []

    def client(*args):
        fake.client_args.append(args)
        return fake

    monkeypatch.setattr(kc, "ConnectClient", client)
    return fake


def run(run_module, state="present", config=None, check_mode=False, diff=True, **args):
    params = {"url": FakeConnect.url, "name": NAME, "state": state, **args}
    if state == "present":
        params["config"] = CONFIG if config is None else config
    return run_module(kc.main, params, check_mode=check_mode, diff=diff)


# ---- pure functions ----------------------------------------------------------------------------


def test_normalize_config_gives_connects_strings_and_the_name():
    assert kc.normalize_config(CONFIG, NAME) == STORED
    assert kc.normalize_config({"ratio": 0.5, "on": True, "name": NAME}, NAME) == {
        "ratio": "0.5",
        "on": "true",
        "name": NAME,
    }
    with pytest.raises(kc.BadInput, match="not the connector's name"):
        kc.normalize_config({"name": "other"}, NAME)
    with pytest.raises(kc.BadInput, match="not no value"):
        kc.normalize_config({"database.user": None}, NAME)
    with pytest.raises(kc.BadInput, match="not a dict"):
        kc.normalize_config({"nested": {"a": 1}}, NAME)


def test_secret_keys_match_case_insensitively_anywhere_in_the_key():
    keys = kc.DEFAULT_SECRET_KEYS
    for key in (
        "database.password",
        "ssl.key.password",
        "producer.override.sasl.jaas.config",
        "aws.secret.access.key",
        "Auth.Token",
        "key.converter.basic.auth.user.info",
        "DATABASE.PASSWORD",
    ):
        assert kc.is_secret_key(key, keys), key
    for key in ("database.user", "tasks.max", "connector.class", "database.hostname"):
        assert not kc.is_secret_key(key, keys), key
    assert kc.is_secret_key("my.api.key", ["api.key"]) and not kc.is_secret_key("database.password", [])


def test_mask_hides_only_secret_values():
    masked = kc.mask(STORED, kc.DEFAULT_SECRET_KEYS)
    assert masked["database.password"] == kc.MASK
    assert masked["schema.history.internal.producer.sasl.jaas.config"] == kc.MASK
    assert masked["database.user"] == "debezium" and masked["tasks.max"] == "1"
    assert kc.mask(None, kc.DEFAULT_SECRET_KEYS) == {}
    assert kc.mask_text(f"bad {PASSWORD} and {JAAS}", {PASSWORD, JAAS}) == "bad ******** and ********"


def test_config_differs_key_by_key_as_strings():
    assert not kc.config_differs(dict(STORED), STORED)
    assert kc.config_differs(None, STORED)
    assert kc.config_differs({**STORED, "snapshot.mode": "initial"}, STORED)  # a key to remove
    assert kc.changed_keys({**STORED, "snapshot.mode": "initial"}, STORED) == ["snapshot.mode"]
    assert kc.changed_keys({**STORED, "tasks.max": "2"}, STORED) == ["tasks.max"]
    assert kc.changed_keys(STORED, {k: v for k, v in STORED.items() if k != "topic.prefix"}) == ["topic.prefix"]


def test_running_means_the_connector_and_every_task_at_least_one():
    assert kc.all_running(status("RUNNING", "RUNNING", "RUNNING"))
    assert not kc.all_running(status("RUNNING"))  # no task yet
    assert not kc.all_running(status("RUNNING", "RUNNING", "UNASSIGNED"))
    assert not kc.all_running(status("UNASSIGNED", "RUNNING"))
    assert not kc.all_running(None)


def test_failed_tasks_name_the_task_its_worker_and_trace():
    doc = status("RUNNING", "RUNNING", ("FAILED", {"trace": "java.lang.Boom"}))
    assert kc.failed_tasks(doc) == [{"id": 1, "worker_id": "10.0.0.13:8083", "trace": "java.lang.Boom"}]
    doc["connector"].update(state="FAILED", trace="connector trace")
    assert [item["id"] for item in kc.failed_tasks(doc)] == ["connector", 1]
    assert kc.failed_tasks(status("RUNNING", "RUNNING")) == [] and kc.failed_tasks(None) == []


def test_summarized_status_keeps_the_trace_only_of_failed_entries():
    doc = status("RUNNING", ("RUNNING", {"trace": "old"}), ("FAILED", {"trace": f"pw {PASSWORD} " + "x" * 5000}))
    summary = kc.summarize_status(doc, {PASSWORD})
    assert "trace" not in summary["tasks"][0] and "trace" not in summary["connector"]
    assert summary["tasks"][1]["trace"].startswith("pw ******** x") and len(summary["tasks"][1]["trace"]) == 4000
    assert summary["connector"] == {"state": "RUNNING", "worker_id": "10.0.0.11:8083"}


# ---- the module against the fake Connect -------------------------------------------------------


def test_create_validates_then_posts_strings_and_waits_for_running(connect, run_module):
    connect.statuses = [status("UNASSIGNED"), status("RUNNING", "UNASSIGNED"), status("RUNNING", "RUNNING")]
    outcome, result = run(run_module)
    assert outcome == "exit" and result["changed"] and result["connector"] == NAME
    methods = [(method, path) for method, path, _ in connect.calls]
    assert methods[:3] == [
        ("GET", "/connectors/cdc-sales/config"),
        ("PUT", "/connector-plugins/io.debezium.connector.mariadb.MariaDbConnector/config/validate"),
        ("POST", "/connectors"),
    ]
    assert connect.writes == [("POST", "/connectors", {"name": NAME, "config": STORED})]
    assert connect.connectors[NAME] == STORED
    assert result["status"]["tasks"] == [{"id": 0, "state": "RUNNING", "worker_id": "10.0.0.12:8083"}]
    assert result["config"]["database.password"] == kc.MASK and result["config"]["tasks.max"] == "1"
    assert "database.password" in result["changed_keys"]
    assert connect.client_args == [(FakeConnect.url, 10, None, None, None)]


def test_unchanged_config_writes_nothing_but_checks_the_status(connect, run_module):
    connect.connectors[NAME] = dict(STORED)
    outcome, result = run(run_module)
    assert outcome == "exit" and not result["changed"] and result["changed_keys"] == []
    assert connect.writes == [] and not any("/validate" in path for _, path, _ in connect.calls)
    assert ("GET", "/connectors/cdc-sales/status", None) in connect.calls
    assert result["status"]["connector"]["state"] == "RUNNING"
    assert result["diff"]["before"] == result["diff"]["after"]


def test_a_changed_config_is_put_whole(connect, run_module):
    connect.connectors[NAME] = {**STORED, "tasks.max": "2", "snapshot.mode": "never"}
    outcome, result = run(run_module)
    assert outcome == "exit" and result["changed"]
    assert result["changed_keys"] == ["snapshot.mode", "tasks.max"]
    assert connect.writes == [("PUT", "/connectors/cdc-sales/config", STORED)]
    assert connect.connectors[NAME] == STORED


def test_absent_deletes_and_waits_until_it_is_gone(connect, run_module, clock):
    connect.connectors[NAME] = dict(STORED)
    connect.listed_after_delete = 2
    outcome, result = run(run_module, state="absent")
    assert outcome == "exit" and result["changed"] and result["config"] == {} and result["status"] is None
    assert connect.writes == [("DELETE", "/connectors/cdc-sales", None)] and NAME not in connect.connectors
    assert clock.sleeps == [1, 1]  # polled until GET answered 404
    assert result["diff"] == {"before": kc.mask(STORED, kc.DEFAULT_SECRET_KEYS), "after": {}}


def test_absent_connector_is_left_alone(connect, run_module):
    outcome, result = run(run_module, state="absent")
    assert outcome == "exit" and not result["changed"] and result["diff"] == {"before": {}, "after": {}}
    assert connect.writes == [] and connect.calls == [("GET", "/connectors/cdc-sales/config", None)]


def test_check_mode_reports_but_neither_writes_nor_waits(connect, run_module, clock):
    outcome, result = run(run_module, check_mode=True)
    assert outcome == "exit" and result["changed"] and result["diff"]["before"] == {}
    assert result["status"] is None
    connect.connectors[NAME] = {**STORED, "tasks.max": "3"}
    connect.statuses = [status("RUNNING", "UNASSIGNED")]  # would never be waited for
    outcome, result = run(run_module, check_mode=True)
    assert outcome == "exit" and result["changed"] and result["changed_keys"] == ["tasks.max"]
    assert result["status"]["tasks"][0]["state"] == "UNASSIGNED"
    outcome, result = run(run_module, state="absent", check_mode=True)
    assert outcome == "exit" and result["changed"]
    assert connect.writes == [] and clock.sleeps == [] and connect.connectors[NAME]["tasks.max"] == "3"


def test_diff_shows_values_but_masks_secrets(connect, run_module):
    connect.connectors[NAME] = {**STORED, "database.password": OLD_PASSWORD, "tasks.max": "2"}
    outcome, result = run(run_module)
    assert outcome == "exit" and result["changed"]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert before["database.password"] == after["database.password"] == kc.MASK
    assert after["schema.history.internal.producer.sasl.jaas.config"] == kc.MASK
    assert (before["tasks.max"], after["tasks.max"]) == ("2", "1")
    assert after["database.hostname"] == "mariadb1"
    assert result["changed_keys"] == ["database.password", "tasks.max"]


def test_no_secret_value_is_in_the_result_or_the_invocation_log(connect, run_module, monkeypatch):
    logged = []
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append(msg))
    connect.connectors[NAME] = {**STORED, "database.password": OLD_PASSWORD}
    outcome, result = run(run_module)
    assert outcome == "exit" and result["changed"]
    text = json.dumps(result)
    for secret in (PASSWORD, OLD_PASSWORD, JAAS, "jaas-pw-42"):
        assert secret not in text
    assert kc.MASK in text
    assert logged and "mariadb1" in logged[0]  # the invocation is logged, config and all
    assert PASSWORD not in " ".join(logged) and "jaas-pw-42" not in " ".join(logged)


def test_validation_errors_fail_before_any_write_without_secret_values(connect, run_module):
    connect.validation = {
        "name": "io.debezium.connector.mariadb.MariaDbConnector",
        "error_count": 2,
        "configs": [
            {"definition": {"name": "database.user"}, "value": {"name": "database.user", "errors": []}},
            {
                "definition": {"name": "database.hostname"},
                "value": {"name": "database.hostname", "value": "mariadb1", "errors": ["Unable to connect: timeout"]},
            },
            {
                "definition": {"name": "database.password"},
                "value": {
                    "name": "database.password",
                    "value": "[hidden]",
                    "errors": [f"Access denied for user 'debezium' using password {PASSWORD}"],
                },
            },
        ],
    }
    outcome, result = run(run_module)
    assert outcome == "fail" and connect.writes == [] and connect.connectors == {}
    assert "finds 2 error(s)" in result["msg"]
    assert "database.hostname: Unable to connect: timeout" in result["msg"]
    assert [item["name"] for item in result["errors"]] == ["database.hostname", "database.password"]
    assert PASSWORD not in json.dumps(result) and "using password ********" in result["msg"]


def test_a_failed_task_fails_at_once_with_its_trace(connect, run_module, clock):
    trace = f"org.apache.kafka.connect.errors.ConnectException: login {PASSWORD} refused\n" + "\tat x.y\n" * 800
    connect.statuses = [status("RUNNING", "RUNNING", ("FAILED", {"trace": trace}))]
    outcome, result = run(run_module)
    assert outcome == "fail" and result["changed"] and NAME in connect.connectors
    assert "task 1 on worker 10.0.0.13:8083 is FAILED" in result["msg"]
    assert result["trace"].startswith("org.apache.kafka.connect.errors.ConnectException: login ******** refused")
    assert len(result["trace"]) == kc.TRACE_LIMIT and result["trace"] in result["msg"]
    assert result["status"]["tasks"][1]["state"] == "FAILED" and "trace" not in result["status"]["tasks"][0]
    assert clock.sleeps == [] and PASSWORD not in json.dumps(result)


def test_a_paused_connector_fails_without_waiting(connect, run_module, clock):
    connect.connectors[NAME] = dict(STORED)
    connect.statuses = [status("PAUSED", "PAUSED")]
    outcome, result = run(run_module)
    assert outcome == "fail" and "is PAUSED" in result["msg"] and "/connectors/cdc-sales/resume" in result["msg"]
    assert not result["changed"] and clock.sleeps == []


def test_the_wait_is_bounded_by_a_real_deadline(connect, run_module, clock):
    connect.connectors[NAME] = dict(STORED)
    connect.statuses = [status("RUNNING", "UNASSIGNED")]
    connect.request_seconds = 0.4
    started = clock.now
    outcome, result = run(run_module, wait_timeout=5, timeout=30)
    assert outcome == "fail" and "not RUNNING after 5 s" in result["msg"] and "tasks: 0 UNASSIGNED" in result["msg"]
    assert result["status"]["tasks"][0]["state"] == "UNASSIGNED"
    assert clock.now - started <= 5 + 1  # the last request is given at least 1 s
    assert sum(clock.sleeps) <= 5 and all(pause <= 1 for pause in clock.sleeps)
    waits = connect.timeouts[1:]  # the status reads
    assert len(waits) > 3
    for at, timeout in waits:
        assert 1 <= timeout <= 10 and timeout <= max(1, started + 5 - at)


def test_no_wait_reads_the_status_once(connect, run_module, clock):
    connect.statuses = [status("UNASSIGNED")]
    outcome, result = run(run_module, wait_timeout=0)
    assert outcome == "exit" and result["changed"] and result["status"]["connector"]["state"] == "UNASSIGNED"
    assert clock.sleeps == [] and [m for m, p, _ in connect.calls].count("GET") == 2


def test_rebalance_conflicts_are_retried(connect, run_module, clock):
    connect.conflicts = 3
    outcome, result = run(run_module)
    assert outcome == "exit" and result["changed"] and connect.connectors[NAME] == STORED
    assert clock.sleeps[:3] == [1, 1, 1]
    assert [call[1] for call in connect.calls[:4]] == ["/connectors/cdc-sales/config"] * 4


def test_conflicts_give_up_after_30_s_without_wait(connect, run_module, clock):
    connect.conflicts = 10_000
    outcome, result = run(run_module, wait_timeout=0)
    assert outcome == "fail" and "HTTP 409" in result["msg"] and "rebalance is expected" in result["msg"]
    assert 29 <= sum(clock.sleeps) <= 30


def test_a_connector_created_meanwhile_is_not_retried(connect, run_module, clock):
    connect.fail[("POST", "/connectors")] = (409, {"error_code": 409, "message": f"Connector {NAME} already exists"})
    outcome, result = run(run_module)
    assert outcome == "fail" and "HTTP 409: Connector cdc-sales already exists" in result["msg"]
    assert clock.sleeps == [] and len(connect.writes) == 1


@pytest.mark.parametrize("name", ["", "a/b", "cdc sales", "tab\there", "x" * 250, ".."])
def test_bad_names_are_refused_before_any_request(connect, run_module, name):
    outcome, result = run(run_module, name=name)
    assert outcome == "fail" and "connector name" in result["msg"]
    assert connect.calls == [] and connect.client_args == []


def test_a_name_of_249_characters_and_odd_ones_are_quoted(connect, run_module):
    name = "cdc.sales_" + "x" * 239
    outcome, result = run(run_module, name=name, config={**CONFIG, "name": name})
    assert outcome == "exit" and result["changed"] and name in connect.connectors
    outcome, result = run(run_module, name="a?b#c%d")
    assert outcome == "exit" and ("GET", "/connectors/a%3Fb%23c%25d/config", None) in connect.calls


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"config": {**CONFIG, "name": "other"}}, "is not the connector's name"),
        ({"config": {"tasks.max": 1}}, "config needs connector.class"),
        ({"config": {**CONFIG, "database.user": None}}, "config database.user"),
        ({"url": "connect1:8083"}, "must start with http:// or https://"),
        ({"wait_timeout": 3601}, "wait_timeout must be 0-3600"),
        ({"wait_timeout": -1}, "wait_timeout must be 0-3600"),
        ({"timeout": 0}, "timeout must be at least 1"),
        ({"secret_keys": ["password", ""]}, "empty pattern"),
        ({"ca_file": "/nonexistent/ca.crt"}, "is not a file"),
    ],
)
def test_bad_input_is_refused_before_any_request(connect, run_module, args, message):
    outcome, result = run(run_module, **args)
    assert outcome == "fail" and message in result["msg"]
    assert connect.calls == []


def test_present_needs_a_config(connect, run_module):
    outcome, result = run_module(kc.main, {"name": NAME})
    assert outcome == "fail" and "config" in result["msg"] and connect.calls == []


def test_rest_errors_give_the_code_and_connects_message(connect, run_module):
    message = "Failed to find any class that implements Connector and which name matches io.debezium.Nope"
    connect.fail[("POST", "/connectors")] = (500, {"error_code": 500, "message": message})
    outcome, result = run(run_module, validate=False)
    assert outcome == "fail"
    assert result["msg"] == (f"Kafka Connect at {FakeConnect.url}: POST /connectors returned HTTP 500: {message}")
    connect.fail[("GET", "/connectors/cdc-sales/config")] = (401, "<html>Unauthorized</html>")
    outcome, result = run(run_module)
    assert outcome == "fail" and "HTTP 401: <html>Unauthorized</html>" in result["msg"]


# ---- the HTTP client ---------------------------------------------------------------------------


@pytest.fixture
def http_connect(monkeypatch, clock):
    """FakeConnect behind a real HTTP server on the loopback; records the Authorization headers."""
    for variable in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    fake = FakeConnect(clock)
    fake.authorizations = []

    class Handler(BaseHTTPRequestHandler):
        def handle_any(self):
            fake.authorizations.append(self.headers.get("Authorization"))
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            code, reply = fake.request(self.command, self.path, body)
            payload = b"" if reply is None else json.dumps(reply).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = handle_any

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_port}"
    yield fake
    server.shutdown()
    server.server_close()


def test_the_client_speaks_json_with_basic_auth(http_connect, run_module):
    outcome, result = run(run_module, url=http_connect.url + "/", url_username="ops", url_password="rest-pw")
    assert outcome == "exit" and result["changed"] and http_connect.connectors[NAME] == STORED
    expected = "Basic " + base64.b64encode(b"ops:rest-pw").decode()
    assert set(http_connect.authorizations) == {expected}
    outcome, result = run(run_module, url=http_connect.url, state="absent")
    assert outcome == "exit" and result["changed"] and http_connect.connectors == {}  # 204 without a body
    client = kc.ConnectClient(http_connect.url)
    assert client.request("GET", "/connectors/nope/config") == (
        404,
        {"error_code": 404, "message": "Connector nope not found"},
    )


def test_an_unreachable_url_is_named_with_the_reason(run_module, monkeypatch):
    for variable in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(variable, raising=False)
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    outcome, result = run(run_module, url=url)
    assert outcome == "fail"
    assert result["msg"].startswith(f"cannot reach Kafka Connect at {url}/connectors/cdc-sales/config: ")
    assert "refused" in result["msg"].lower()
    assert result["connector"] == NAME
