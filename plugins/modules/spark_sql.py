#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: spark_sql
short_description: Run SQL statements on the SQL endpoint (Spark Thrift server) as a user
version_added: 1.4.0
description:
  - Logs in to a HiveServer2 endpoint (the Spark Thrift server) over TLS with SASL PLAIN and runs the statements in
    one session each call - or, for a statement with its own O(statements[].session), in a session opened with
    those settings. Needs no JVM, Thrift or SASL library on the host, and many statements cost one login, not one
    beeline start each.
  - Each statement's outcome is returned - its rows or its error - and a failing statement does not stop the others
    unless O(stop_on_error) is set. Whether the outcomes are what was wanted is the playbook's question (an audit
    expects refusals).
  - C(changed) is true when a statement that changes something ran; statements that only read (C(SELECT),
    C(WITH), C(SHOW), C(DESCRIBE), C(EXPLAIN), C(SET), C(USE), C(VALUES)) change nothing. In check mode only those
    run; the others are reported as skipped.
author: DataLake FB platform engineers
options:
  host:
    description: The endpoint's host (its certificate must name it).
    type: str
    required: true
  port:
    description: The endpoint's port.
    type: int
    default: 10000
  user:
    description: The user to log in as.
    type: str
    required: true
  password:
    description: The user's password.
    type: str
    required: true
  ca_file:
    description: CA certificate that checks the endpoint's certificate and name.
    type: path
    required: true
  statements:
    description: The statements, in order.
    type: list
    elements: dict
    required: true
    suboptions:
      sql:
        description: One statement, without a trailing semicolon.
        type: str
        required: true
      session:
        description:
          - Settings the client sends when it opens a session for this statement alone (the JDBC URL's
            C(?key=value) arrives as C(set:hiveconf:key)). The endpoint may refuse the session itself.
        type: dict
  max_rows:
    description: Rows returned per statement at most.
    type: int
    default: 1000
  timeout:
    description: Seconds to wait for the connection and for each call (a statement's run included).
    type: float
    default: 300
  stop_on_error:
    description: Fail at the first statement that fails (otherwise every outcome is returned).
    type: bool
    default: false
"""

EXAMPLES = r"""
- name: Count an analyst's rows through the secure view
  datalake_fb.platform.spark_sql:
    host: "{{ inventory_hostname }}"
    user: analyst_north
    password: "{{ vault_analyst_north_password }}"
    ca_file: /etc/datalake/tls/ca.crt
    statements:
      - sql: SELECT department, count(*) FROM spark_catalog.sales_secure.orders GROUP BY department
  register: counts

- name: Try a setting in the connection, as a client could
  datalake_fb.platform.spark_sql:
    host: sql.example.org
    user: analyst_north
    password: "{{ vault_analyst_north_password }}"
    ca_file: /etc/datalake/tls/ca.crt
    statements:
      - {sql: SELECT 1, session: {"set:hiveconf:spark.sql.runSQLOnFiles": "true"}}
"""

RETURN = r"""
results:
  description: One entry per statement, in order.
  returned: always
  type: list
  elements: dict
  contains:
    sql: {description: The statement., type: str}
    ok: {description: Whether it ran., type: bool}
    columns: {description: Column names of its result set., type: list, elements: str}
    rows: {description: Its rows (at most O(max_rows))., type: list, elements: list}
    error: {description: The server's message when it did not run (a refused login or session included)., type: str}
    skipped: {description: Not run in check mode (it would change something)., type: bool}
  sample:
    - {sql: "SELECT 1", ok: true, columns: ["1"], rows: [[1]], error: null, skipped: false}
failed_count:
  description: Statements that did not run.
  returned: always
  type: int
"""

import re

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake_fb.platform.plugins.module_utils.hiveserver2 import (
    HiveServer2,
    HiveServer2Error,
    tls_context,
)
from ansible_collections.datalake_fb.platform.plugins.module_utils.thrift_binary import ThriftError

READ_ONLY = re.compile(r"^\s*(\(|SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|SET|USE|VALUES)\b", re.IGNORECASE)


def run_statements(params, check_mode, client=HiveServer2):
    """Outcomes of the statements: one shared session, and one of its own for each with settings."""
    context = tls_context(params["ca_file"])
    results = []

    def connect(configuration=None):
        return client(
            params["host"],
            params["port"],
            params["user"],
            params["password"],
            context,
            timeout=params["timeout"],
            configuration=configuration,
        )

    shared = None
    try:
        for item in params["statements"]:
            sql = item["sql"]
            entry = {"sql": sql, "ok": False, "columns": [], "rows": [], "error": None, "skipped": False}
            results.append(entry)
            if check_mode and not READ_ONLY.match(sql):
                entry["skipped"] = True
                continue
            try:
                if item.get("session"):
                    with connect({str(k): str(v) for k, v in item["session"].items()}) as own:
                        entry["columns"], entry["rows"] = own.execute(sql, params["max_rows"])
                else:
                    if shared is None:
                        shared = connect().__enter__()
                    entry["columns"], entry["rows"] = shared.execute(sql, params["max_rows"])
                entry["ok"] = True
            except (HiveServer2Error, ThriftError) as exc:
                entry["error"] = str(exc)
                if shared is not None and isinstance(exc, ThriftError):
                    shared.__exit__(None, None, None)
                    shared = None
                if params["stop_on_error"]:
                    break
    finally:
        if shared is not None:
            shared.__exit__(None, None, None)
    return results


def main():
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "required": True},
            "port": {"type": "int", "default": 10000},
            "user": {"type": "str", "required": True},
            "password": {"type": "str", "required": True, "no_log": True},
            "ca_file": {"type": "path", "required": True},
            "statements": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {"sql": {"type": "str", "required": True}, "session": {"type": "dict"}},
            },
            "max_rows": {"type": "int", "default": 1000},
            "timeout": {"type": "float", "default": 300},
            "stop_on_error": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not 1 <= params["port"] <= 65535:
        module.fail_json(msg=f"port must be 1 to 65535, got {params['port']}")
    if params["max_rows"] < 0 or params["timeout"] <= 0:
        module.fail_json(msg="max_rows must be 0 or more and timeout more than 0")
    try:
        results = run_statements(params, module.check_mode)
    except OSError as exc:
        module.fail_json(msg=f"cannot read the CA file {params['ca_file']}: {exc}")
    failed = [r for r in results if not r["ok"] and not r["skipped"]]
    changed = any(r["ok"] and not READ_ONLY.match(r["sql"]) for r in results)
    if params["stop_on_error"] and failed:
        module.fail_json(msg=f"{failed[0]['sql']!r} failed: {failed[0]['error']}", results=results, changed=changed)
    module.exit_json(changed=changed, results=results, failed_count=len(failed))


if __name__ == "__main__":
    main()
