#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: spark_cluster_info
short_description: Read a Spark standalone cluster's masters, workers and applications
version_added: 1.2.0
description:
  - Asks every master's web UI (C(/json/)) for its state, as a health gate for standalone HA -
    exactly one master ALIVE (the others STANDBY), the expected workers registered ALIVE with it,
    and optionally named applications RUNNING.
  - With O(wait_timeout), it polls until the cluster is healthy and fails when that time is up;
    each request's timeout is cut to the time left, so the bound is real.
author: DataLake FB platform engineers
options:
  masters:
    description: Masters' web UI addresses, C(host:port).
    type: list
    elements: str
    required: true
  expected_workers:
    description: Hosts (names or addresses) that must be registered ALIVE with the ALIVE master.
    type: list
    elements: str
    default: []
  expected_apps:
    description: Names of applications that must be RUNNING on the ALIVE master.
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds each request may take.
    type: float
    default: 5
  wait_timeout:
    description: Seconds to wait for a healthy cluster; 0 reads once and reports what it finds.
    type: int
    default: 0
extends_documentation_fragment:
  - datalake_fb.platform.info_module
"""

EXAMPLES = r"""
- name: Wait for one ALIVE master with both workers
  datalake_fb.platform.spark_cluster_info:
    masters: [spark1:8080, spark2:8080]
    expected_workers: [spark1, spark2]
    expected_apps: [spark-thrift-server]
    wait_timeout: 120
"""

RETURN = r"""
alive_master:
  description: The ALIVE master (C(host:port) as given), or null.
  returned: always
  type: str
masters:
  description: Each master's state (C(ALIVE), C(STANDBY), C(RECOVERING), or C(unreachable)).
  returned: always
  type: dict
  sample: {"spark1:8080": ALIVE, "spark2:8080": STANDBY}
workers:
  description: Workers the ALIVE master knows, with their state.
  returned: always
  type: list
  elements: dict
  sample: [{host: 10.0.0.1, state: ALIVE, cores: 4}]
apps:
  description: Active applications on the ALIVE master.
  returned: always
  type: list
  elements: dict
problems:
  description: What kept the cluster from being healthy at the last read (empty when healthy).
  returned: always
  type: list
  elements: str
waited:
  description: Seconds spent waiting.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake_fb.platform.plugins.module_utils.health_wait import report, wait_until_healthy
from ansible_collections.datalake_fb.platform.plugins.module_utils.service_readers import read_master, summarize


def wait_for_health(params, read=read_master, clock=time.monotonic, sleep=time.sleep):
    """Poll every master until healthy or wait_timeout is over: (summary, problems, waited)."""

    def read_once(timeout):
        documents = {master: read(master, timeout) for master in params["masters"]}
        return summarize(documents, params["expected_workers"], params["expected_apps"])

    return wait_until_healthy(read_once, params["wait_timeout"], params["timeout"], clock, sleep)


def main():
    module = AnsibleModule(
        argument_spec={
            "masters": {"type": "list", "elements": "str", "required": True},
            "expected_workers": {"type": "list", "elements": "str", "default": []},
            "expected_apps": {"type": "list", "elements": "str", "default": []},
            "timeout": {"type": "float", "default": 5},
            "wait_timeout": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not params["masters"] or params["wait_timeout"] < 0 or params["timeout"] <= 0:
        module.fail_json(msg="masters must not be empty, wait_timeout must be >= 0 and timeout > 0")
    report(module, "Spark cluster", *wait_for_health(params))


if __name__ == "__main__":
    main()
