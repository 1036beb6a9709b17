#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: zookeeper_info
short_description: Read the mode of every server of a ZooKeeper ensemble
version_added: 1.2.0
description:
  - Sends the C(srvr) four-letter command to every server (it must be in C(4lw.commands.whitelist))
    and reports each one's mode, as a health gate - a quorum has exactly one C(leader) and every
    other server C(follower) (or one C(standalone) server).
  - With O(wait_timeout), it polls until the ensemble is complete and fails when that time is up.
author: DataLake FB platform engineers
options:
  servers:
    description: Servers as C(host:port) (the client port).
    type: list
    elements: str
    required: true
  timeout:
    description: Seconds each connection may take.
    type: float
    default: 3
  wait_timeout:
    description: Seconds to wait for a complete ensemble; 0 reads once and reports what it finds.
    type: int
    default: 0
extends_documentation_fragment:
  - datalake_fb.platform.info_module
"""

EXAMPLES = r"""
- name: Wait for a leader and two followers
  datalake_fb.platform.zookeeper_info:
    servers: [zk1:2181, zk2:2181, zk3:2181]
    wait_timeout: 120
"""

RETURN = r"""
modes:
  description: Mode of each server (leader, follower, standalone, or unreachable).
  returned: always
  type: dict
  sample: {"zk1:2181": leader, "zk2:2181": follower, "zk3:2181": follower}
leader:
  description: The leader (or the standalone server), or null.
  returned: always
  type: str
problems:
  description: What kept the ensemble from being complete at the last read (empty when complete).
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
from ansible_collections.datalake_fb.platform.plugins.module_utils.service_readers import ensemble_problems, read_mode


def wait_for_ensemble(params, read=read_mode, clock=time.monotonic, sleep=time.sleep):
    """Poll until the ensemble is complete or wait_timeout is over."""

    def read_once(timeout):
        modes = {server: read(server, timeout) for server in params["servers"]}
        leader, problems = ensemble_problems(modes)
        return {"modes": modes, "leader": leader}, problems

    return wait_until_healthy(read_once, params["wait_timeout"], params["timeout"], clock, sleep)


def main():
    module = AnsibleModule(
        argument_spec={
            "servers": {"type": "list", "elements": "str", "required": True},
            "timeout": {"type": "float", "default": 3},
            "wait_timeout": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    params = module.params
    if not params["servers"] or params["wait_timeout"] < 0 or params["timeout"] <= 0:
        module.fail_json(msg="servers must not be empty, wait_timeout must be >= 0 and timeout > 0")
    report(module, "ZooKeeper ensemble", *wait_for_ensemble(params))


if __name__ == "__main__":
    main()
