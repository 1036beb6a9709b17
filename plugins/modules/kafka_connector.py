#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_connector
short_description: A Kafka Connect connector as code, through the Connect REST API
version_added: 1.2.0
description:
  - Creates, updates or deletes one connector of a Kafka Connect cluster (distributed mode) through
    the REST API of any of its workers. The connector's config is made exactly O(config); keys of the
    current config that are not listed are removed (Connect replaces the whole config on update).
  - Before a create or update the config is checked by the plugin
    (C(PUT /connector-plugins/<class>/config/validate)); a config with errors fails before anything changes.
  - After a create or update, and when the config is already right, waits until the connector and all
    its tasks are C(RUNNING); a C(FAILED) connector or task fails at once with its stack trace.
  - Values of secret keys (see O(secret_keys)) never appear in the result, the diff or the logs.
  - Check mode reports what would change (the validation still runs, it changes nothing); diff mode
    shows the config before and after, secrets masked.
  - Uses only the Python standard library, so it runs with any node's python.
author: DataLake FB platform engineers
options:
  url:
    description: Base URL of a Connect worker's REST API (C(http://) or C(https://)).
    type: str
    default: http://127.0.0.1:8083
  name:
    description: Connector name (at most 249 characters, without C(/), whitespace or control characters).
    type: str
    required: true
  state:
    description: Whether the connector should exist.
    type: str
    choices: [present, absent]
    default: present
  config:
    description:
      - The connector's whole config; C(connector.class) is required. Required with O(state=present).
      - Values are sent as strings, as Connect wants them; numbers are written out, booleans become
        C(true) or C(false) and lists of scalars are joined with commas.
      - A C(name) key, if given, must be O(name) (it is added when omitted).
    type: dict
  secret_keys:
    description:
      - A config key is secret when it contains one of these (case-insensitive), for example
        C(database.password), C(producer.override.sasl.jaas.config) or C(aws.secret.access.key).
      - Secret values are shown as C(********) in the result and the diff and are scrubbed from the
        logs and from any message by Ansible.
    type: list
    elements: str
    default: [password, jaas.config, secret, token, credentials, user.info]
  wait_timeout:
    description:
      - Seconds to wait for the connector and all its tasks (at least one) to be C(RUNNING), and, with
        O(state=absent), for the connector to be gone. C(0) does not wait.
      - It is the bound of the whole run's waiting, retries of requests refused during a rebalance
        (HTTP 409) included; with C(0) those retries stop after 30 seconds.
    type: int
    default: 120
  validate:
    description: Whether to have the plugin validate the config before a create or update.
    type: bool
    default: true
  timeout:
    description: Timeout of each HTTP request in seconds (at most 10 while waiting).
    type: int
    default: 10
  ca_file:
    description: CA certificate(s) (PEM) that sign the worker's certificate, for an C(https://) O(url).
    type: path
  url_username:
    description: User for HTTP basic authentication.
    type: str
  url_password:
    description: Password for HTTP basic authentication.
    type: str
notes:
  - A connector that is C(PAUSED) or C(STOPPED) fails the wait at once (resume it first); the module
    never pauses, resumes or restarts a connector.
  - Right after an update, the status read may still be the one of the tasks before the update.
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Debezium CDC of the sales database (MariaDB)
  datalake_fb.platform.kafka_connector:
    url: http://connect1:8083
    name: cdc-sales
    config:
      connector.class: io.debezium.connector.mariadb.MariaDbConnector
      tasks.max: 1
      database.hostname: mariadb1
      database.port: 3306
      database.user: debezium
      database.password: "{{ vault_debezium_db_password }}"
      database.server.id: 184054
      database.include.list: sales
      table.include.list: sales.vendas,sales.clientes
      topic.prefix: cdc
      snapshot.mode: initial
      include.schema.changes: false
      schema.history.internal.kafka.bootstrap.servers: kafka1:9092,kafka2:9092,kafka3:9092
      schema.history.internal.kafka.topic: schema-history.cdc-sales
    wait_timeout: 180

- name: Over TLS, with basic authentication
  datalake_fb.platform.kafka_connector:
    url: https://connect1:8443
    ca_file: /etc/datalake/pki/ca.crt
    url_username: ops
    url_password: "{{ vault_connect_rest_password }}"
    name: cdc-sales
    config: "{{ cdc_sales_connector_config }}"

- name: Retire a connector
  datalake_fb.platform.kafka_connector:
    name: cdc-legacy
    state: absent
"""

RETURN = r"""
connector:
  description: The connector's name.
  returned: always
  type: str
  sample: cdc-sales
config:
  description:
    - The connector's config after the run (as it would be, in check mode), secret values masked.
    - Empty with O(state=absent).
  returned: always
  type: dict
  sample:
    connector.class: io.debezium.connector.mariadb.MariaDbConnector
    database.password: "********"
    name: cdc-sales
changed_keys:
  description: Config keys that were (or would be) added, changed or removed; names only.
  returned: always
  type: list
  elements: str
  sample: [database.password, tasks.max]
status:
  description:
    - The last status read (C(GET /connectors/<name>/status)), null when there is none. The C(trace) of
      an entry is only given when it is C(FAILED).
  returned: always
  type: dict
  sample:
    name: cdc-sales
    type: source
    connector: {state: RUNNING, worker_id: "10.0.0.11:8083"}
    tasks: [{id: 0, state: RUNNING, worker_id: "10.0.0.12:8083"}]
trace:
  description: Stack trace (first 4000 characters) of the first C(FAILED) connector or task.
  returned: failure
  type: str
  sample: "org.apache.kafka.connect.errors.ConnectException: ..."
errors:
  description: Config validation errors, as C(name) and C(errors) of each failing key.
  returned: failure
  type: list
  elements: dict
  sample: [{name: database.hostname, errors: ["Missing required configuration"]}]
"""

import base64
import http.client
import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request

from ansible.module_utils.basic import AnsibleModule

MASK = "********"
TRACE_LIMIT = 4000
POLL_INTERVAL = 1
MAX_WAIT_REQUEST_TIMEOUT = 10
RETRY_409_WITHOUT_WAIT = 30
MAX_NAME_LENGTH = 249
DEFAULT_SECRET_KEYS = ["password", "jaas.config", "secret", "token", "credentials", "user.info"]


class ConnectError(Exception):
    """A failure to report with fail_json: msg and the result fields that go with it."""

    def __init__(self, msg, **details):
        super().__init__(msg)
        self.msg = msg
        self.details = details


class BadInput(ConnectError):
    """The module's arguments are wrong (found before any request)."""


class ConnectClient:
    """The Connect REST API over urllib: request() returns (HTTP status, parsed JSON body or None)."""

    def __init__(self, url, timeout=10, ca_file=None, username=None, password=None):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.context = ssl.create_default_context(cafile=ca_file) if self.url.startswith("https://") else None
        self.headers = {"Accept": "application/json", "Content-Type": "application/json"}
        if username is not None:
            login = base64.b64encode(f"{username}:{password or ''}".encode()).decode("ascii")
            # Connect's basic-auth extension answers 401 without a challenge: send the login up front
            self.headers["Authorization"] = f"Basic {login}"

    def request(self, method, path, body=None, timeout=None):
        address = self.url + path
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(address, data=data, method=method, headers=self.headers)  # noqa: S310
        try:
            # the scheme is checked by the module (http or https only)
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=timeout or self.timeout, context=self.context
            ) as reply:
                return reply.status, parse_body(reply.read())
        except urllib.error.HTTPError as error:
            return error.code, parse_body(error.read())
        except urllib.error.URLError as error:
            raise ConnectError(f"cannot reach Kafka Connect at {address}: {error.reason}") from error
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise ConnectError(f"cannot reach Kafka Connect at {address}: {error!r}") from error


def parse_body(raw):
    """The JSON document of a reply; None when empty; the text itself when it is not JSON."""
    text = raw.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def connect_message(body):
    """Connect's error message ({"error_code": ..., "message": ...}) or the start of the body."""
    if isinstance(body, dict) and body.get("message"):
        return str(body["message"])
    return str(body)[:500] if body else "(no message)"


class Deadline:
    """A real bound on the run's waiting (time.monotonic), looked up at call time so tests can fake it."""

    def __init__(self, seconds):
        self.seconds = seconds
        self.end = time.monotonic() + seconds

    def remaining(self):
        return self.end - time.monotonic()

    def request_timeout(self, limit):
        """A request's timeout while waiting: the time left, between 1 and min(limit, 10) seconds."""
        return max(1.0, min(float(limit), MAX_WAIT_REQUEST_TIMEOUT, self.remaining()))

    def pause(self):
        """Sleep one poll interval (never past the deadline); False when the time is up."""
        left = self.remaining()
        if left <= 0:
            return False
        time.sleep(min(POLL_INTERVAL, left))
        return True


# ---- pure functions ----------------------------------------------------------------------------


def to_string(key, value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, list) and all(isinstance(item, (str, int, float)) for item in value):
        return ",".join(to_string(key, item) for item in value)
    kind = "no value" if value is None else f"a {type(value).__name__}"
    raise BadInput(f"config {key}: Connect takes strings, numbers, booleans or lists of them, not {kind}")


def normalize_config(config, name):
    """The config as Connect stores it: every value a string, with the connector's name."""
    normalized = {str(key): to_string(key, value) for key, value in (config or {}).items()}
    if "name" in normalized and normalized["name"] != name:
        raise BadInput(f"config name {normalized['name']!r} is not the connector's name {name!r}")
    normalized["name"] = name
    return normalized


def is_secret_key(key, secret_keys):
    lowered = str(key).lower()
    return any(pattern.lower() in lowered for pattern in secret_keys)


def mask(config, secret_keys):
    """A copy of the config with the values of secret keys replaced by ********."""
    return {key: (MASK if is_secret_key(key, secret_keys) else value) for key, value in (config or {}).items()}


def secret_values(config, secret_keys):
    """The values of the secret keys (non-empty ones), as strings."""
    values = set()
    for key, value in (config or {}).items():
        if is_secret_key(key, secret_keys) and value not in (None, ""):
            try:
                values.add(to_string(key, value))
            except BadInput:
                values.add(str(value))
    return values


def mask_text(text, secrets):
    """The text with every secret value replaced by ******** (longest first)."""
    text = str(text)
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def changed_keys(current, wanted):
    """Keys added, changed or removed (string comparison, key by key)."""
    current = current or {}
    wanted = wanted or {}
    keys = set(current) | set(wanted)
    return sorted(
        key for key in keys if key not in current or key not in wanted or str(current[key]) != str(wanted[key])
    )


def config_differs(current, wanted):
    return current is None or bool(changed_keys(current, wanted))


def status_entries(status):
    """(id, entry) for the connector ("connector") and each task of a status document."""
    if not isinstance(status, dict):
        return []
    entries = [("connector", status.get("connector") or {})]
    entries += [(task.get("id"), task) for task in status.get("tasks") or [] if isinstance(task, dict)]
    return entries


def failed_tasks(status):
    """The FAILED connector and tasks: [{id, worker_id, trace}] ("connector" is the connector's id)."""
    return [
        {"id": ident, "worker_id": entry.get("worker_id"), "trace": entry.get("trace") or ""}
        for ident, entry in status_entries(status)
        if entry.get("state") == "FAILED"
    ]


def all_running(status):
    """The connector and all its tasks, at least one, are RUNNING."""
    entries = status_entries(status)
    return len(entries) > 1 and all(entry.get("state") == "RUNNING" for _, entry in entries)


def summarize_status(status, secrets=()):
    """The status document for the result: states and workers, the trace only of FAILED entries."""
    if not isinstance(status, dict):
        return None

    def entry(item, with_id):
        summary = {"id": item.get("id")} if with_id else {}
        summary.update(state=item.get("state"), worker_id=item.get("worker_id"))
        if item.get("state") == "FAILED" and item.get("trace"):
            summary["trace"] = mask_text(item["trace"], secrets)[:TRACE_LIMIT]
        return summary

    return {
        "name": status.get("name"),
        "type": status.get("type"),
        "connector": entry(status.get("connector") or {}, with_id=False),
        "tasks": [entry(task, with_id=True) for task in status.get("tasks") or [] if isinstance(task, dict)],
    }


def describe_status(status):
    if not isinstance(status, dict):
        return "no status yet"
    connector = status.get("connector") or {}
    tasks = [f"{task.get('id')} {task.get('state')}" for task in status.get("tasks") or [] if isinstance(task, dict)]
    return f"connector {connector.get('state')}, tasks: {', '.join(tasks) or 'none'}"


def validation_errors(report, secrets=()):
    """[{name, errors}] of the keys a validate report finds wrong (no values, secrets masked)."""
    found = []
    for item in (report or {}).get("configs") or []:
        value = (item or {}).get("value") or {}
        errors = [mask_text(error, secrets) for error in value.get("errors") or []]
        if errors:
            found.append({"name": value.get("name") or (item.get("definition") or {}).get("name"), "errors": errors})
    return found


def check_name(name):
    if not name or len(name) > MAX_NAME_LENGTH:
        raise BadInput(f"connector name {name!r} must be 1-{MAX_NAME_LENGTH} characters")
    if "/" in name or name in (".", "..") or any(char.isspace() or not char.isprintable() for char in name):
        raise BadInput(f"connector name {name!r} must not contain '/', whitespace or control characters")


def wanted_config(params):
    """The config to enforce (normalized), after checking the arguments; None with state=absent."""
    check_name(params["name"])
    if not params["url"].startswith(("http://", "https://")):
        raise BadInput(f"url {params['url']!r} must start with http:// or https://")
    if not 0 <= params["wait_timeout"] <= 3600:
        raise BadInput(f"wait_timeout must be 0-3600 seconds, got {params['wait_timeout']}")
    if params["timeout"] < 1:
        raise BadInput(f"timeout must be at least 1 second, got {params['timeout']}")
    if any(not pattern for pattern in params["secret_keys"]):
        raise BadInput("secret_keys must not contain an empty pattern (it would match every key)")
    if params["ca_file"] and not os.path.isfile(params["ca_file"]):
        raise BadInput(f"ca_file {params['ca_file']} is not a file")
    if params["state"] == "absent":
        return None
    config = normalize_config(params["config"], params["name"])
    if not config.get("connector.class"):
        raise BadInput(f"connector {params['name']}: config needs connector.class")
    return config


# ---- the REST calls ---------------------------------------------------------------------------


def connector_path(name, *rest):
    return "/".join(["/connectors", urllib.parse.quote(name, safe=""), *rest])


def call(client, method, path, deadline, *, body=None, timeout=None):
    """One request, repeated while Connect answers 409 (rebalance) and the deadline allows."""
    while True:
        code, reply = client.request(method, path, body, timeout=timeout)
        if code != 409 or "already exists" in connect_message(reply).lower() or not deadline.pause():
            return code, reply


def rest_error(client, method, path, code, reply, *, secrets, **details):
    where = getattr(client, "url", "Kafka Connect")
    message = mask_text(connect_message(reply), secrets)
    return ConnectError(f"Kafka Connect at {where}: {method} {path} returned HTTP {code}: {message}", **details)


def read_config(client, name, deadline, secrets):
    path = connector_path(name, "config")
    code, reply = call(client, "GET", path, deadline)
    if code == 404:
        return None
    if code != 200 or not isinstance(reply, dict):
        raise rest_error(client, "GET", path, code, reply, secrets=secrets)
    return {str(key): "" if value is None else str(value) for key, value in reply.items()}


def read_status(client, name, deadline, secrets, timeout=None):
    path = connector_path(name, "status")
    code, reply = call(client, "GET", path, deadline, timeout=timeout)
    if code == 404:
        return None
    if code != 200:
        raise rest_error(client, "GET", path, code, reply, secrets=secrets)
    return reply


def validate_config(client, wanted, deadline, secrets):
    plugin = wanted["connector.class"]
    path = f"/connector-plugins/{urllib.parse.quote(plugin, safe='')}/config/validate"
    code, reply = call(client, "PUT", path, deadline, body=wanted)
    if code != 200 or not isinstance(reply, dict):
        raise rest_error(client, "PUT", path, code, reply, secrets=secrets)
    if (reply.get("error_count") or 0) > 0:
        errors = validation_errors(reply, secrets)
        listed = "; ".join(f"{item['name']}: {' '.join(item['errors'])}" for item in errors)
        raise ConnectError(
            f"connector {wanted['name']}: {plugin} finds {reply['error_count']} error(s) in the config: {listed}",
            errors=errors,
        )


def write_config(client, name, current, wanted, *, deadline, secrets):
    if current is None:
        method, path, body, expected = "POST", "/connectors", {"name": name, "config": wanted}, (200, 201)
    else:
        method, path, body, expected = "PUT", connector_path(name, "config"), wanted, (200, 201)
    code, reply = call(client, method, path, deadline, body=body)
    if code not in expected:
        raise rest_error(client, method, path, code, reply, secrets=secrets)


def delete_connector(client, name, deadline, secrets):
    path = connector_path(name)
    code, reply = call(client, "DELETE", path, deadline)
    if code not in (200, 202, 204, 404):
        raise rest_error(client, "DELETE", path, code, reply, secrets=secrets)


def wait_running(client, name, deadline, timeout, secrets):
    """The status once the connector and all its tasks are RUNNING; ConnectError when one FAILED,
    the connector is paused or stopped, or the deadline passes."""
    status = None
    while True:
        status = read_status(client, name, deadline, secrets, timeout=deadline.request_timeout(timeout)) or status
        failed = failed_tasks(status)
        if failed:
            trace = mask_text(failed[0]["trace"], secrets)[:TRACE_LIMIT]
            which = "; ".join(
                f"{'connector' if item['id'] == 'connector' else 'task ' + str(item['id'])} "
                f"on worker {item['worker_id']} is FAILED"
                for item in failed
            )
            raise ConnectError(
                f"connector {name}: {which}: {trace}", status=summarize_status(status, secrets), trace=trace
            )
        if all_running(status):
            return status
        state = ((status or {}).get("connector") or {}).get("state")
        if state in ("PAUSED", "STOPPED"):
            raise ConnectError(
                f"connector {name} is {state}; resume it (PUT {connector_path(name, 'resume')}) to have it RUNNING",
                status=summarize_status(status, secrets),
            )
        if not deadline.pause():
            raise ConnectError(
                f"connector {name} not RUNNING after {deadline.seconds} s: {describe_status(status)}",
                status=summarize_status(status, secrets),
            )


def wait_gone(client, name, deadline, timeout, secrets):
    while True:
        path = connector_path(name, "config")
        code, reply = call(client, "GET", path, deadline, timeout=deadline.request_timeout(timeout))
        if code == 404:
            return
        if code != 200:
            raise rest_error(client, "GET", path, code, reply, secrets=secrets)
        if not deadline.pause():
            raise ConnectError(f"connector {name} still listed {deadline.seconds} s after its deletion")


# ---- the module's flow ------------------------------------------------------------------------


def ensure(module, client):
    """Make the connector as asked; returns the result (raises ConnectError to fail)."""
    params = module.params
    name = params["name"]
    secret_keys = params["secret_keys"]
    present = params["state"] == "present"
    wanted = wanted_config(params)
    secrets = secret_values(wanted, secret_keys)
    module.no_log_values.update(secrets)
    wait_timeout = params["wait_timeout"]
    deadline = Deadline(wait_timeout or RETRY_409_WITHOUT_WAIT)

    current = read_config(client, name, deadline, secrets)
    old_secrets = secret_values(current, secret_keys)
    module.no_log_values.update(old_secrets)
    secrets |= old_secrets

    changed = config_differs(current, wanted) if present else current is not None
    result = {
        "changed": changed,
        "connector": name,
        "config": mask(wanted, secret_keys) if present else {},
        "changed_keys": changed_keys(current, wanted) if changed else [],
        "status": None,
    }
    if module._diff:
        result["diff"] = {"before": mask(current, secret_keys), "after": result["config"]}

    if present:
        if changed and params["validate"]:
            validate_config(client, wanted, deadline, secrets)
        if module.check_mode:
            # no write and no wait: the status as it is, when the connector exists
            status = read_status(client, name, deadline, secrets) if current is not None else None
        else:
            if changed:
                write_config(client, name, current, wanted, deadline=deadline, secrets=secrets)
            try:
                if wait_timeout:
                    status = wait_running(client, name, deadline, params["timeout"], secrets)
                else:
                    status = read_status(client, name, deadline, secrets)
            except ConnectError as error:
                error.details.update(changed=changed, connector=name)
                raise
        result["status"] = summarize_status(status, secrets)
    elif changed and not module.check_mode:
        delete_connector(client, name, deadline, secrets)
        if wait_timeout:
            try:
                wait_gone(client, name, deadline, params["timeout"], secrets)
            except ConnectError as error:
                error.details.update(changed=True, connector=name)
                raise
    return result


class ConnectorModule(AnsibleModule):
    """AnsibleModule that knows the config's secret values before it logs its invocation."""

    def _log_invocation(self):
        config = self.params.get("config")
        if isinstance(config, dict):
            self.no_log_values.update(secret_values(config, self.params.get("secret_keys") or DEFAULT_SECRET_KEYS))
        super()._log_invocation()


def main():
    module = ConnectorModule(
        argument_spec={
            "url": {"type": "str", "default": "http://127.0.0.1:8083"},
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "config": {"type": "dict"},
            "secret_keys": {"type": "list", "elements": "str", "default": list(DEFAULT_SECRET_KEYS), "no_log": False},
            "wait_timeout": {"type": "int", "default": 120},
            "validate": {"type": "bool", "default": True},
            "timeout": {"type": "int", "default": 10},
            "ca_file": {"type": "path"},
            "url_username": {"type": "str"},
            "url_password": {"type": "str", "no_log": True},
        },
        supports_check_mode=True,
        required_if=[("state", "present", ["config"])],
        required_together=[("url_username", "url_password")],
    )
    params = module.params
    try:
        wanted_config(params)
    except ConnectError as error:
        module.fail_json(msg=error.msg, **error.details)
    try:
        client = ConnectClient(
            params["url"], params["timeout"], params["ca_file"], params["url_username"], params["url_password"]
        )
        result = ensure(module, client)
    except ConnectError as error:
        module.fail_json(msg=error.msg, **{"connector": params["name"], **error.details})
    except ssl.SSLError as error:
        module.fail_json(msg=f"ca_file {params['ca_file']}: {error}")
    module.exit_json(**result)


if __name__ == "__main__":
    main()
