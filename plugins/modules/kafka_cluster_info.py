#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_cluster_info
short_description: Read a Kafka cluster's brokers, controller and partition health
version_added: 1.0.0
description:
  - Sends metadata requests as a client would, so it serves as a health gate - every broker
    registered, a controller elected, no partition without a leader, none under-replicated.
  - With O(wait_timeout), it polls until the cluster is healthy and fails when that time is up;
    the bound is real, each request's own timeout is cut to the time left.
author: DataLake FB platform engineers
options:
  wait_timeout:
    description:
      - Seconds to wait for a healthy cluster; 0 reads once and reports what it finds.
    type: int
    default: 0
  expected_brokers:
    description:
      - Number of brokers a healthy cluster has registered (only checked when set).
    type: int
  fully_replicated:
    description:
      - A healthy cluster also has no under-replicated partition.
    type: bool
    default: false
  max_quorum_lag:
    description:
      - When set, also read the KRaft controller quorum (DescribeQuorum); a healthy cluster has every
        voter (as many as O(expected_voters)) within this many records of the leader's high watermark.
    type: int
  expected_voters:
    description:
      - Number of controller quorum voters a healthy cluster has (only checked with O(max_quorum_lag));
        by default O(expected_brokers) (every broker a controller; broker-only nodes make it smaller).
    type: int
  topic_definitions:
    description:
      - Also return what recreates each user topic (partitions, replication factor, topic-level
        config), for example for a backup (playbooks/backup.yml).
    type: bool
    default: false
extends_documentation_fragment:
  - datalake_fb.platform.kafka
  - datalake_fb.platform.info_module
"""

EXAMPLES = r"""
- name: Wait until all three brokers serve metadata
  datalake_fb.platform.kafka_cluster_info:
    bootstrap_servers: [kafka1:9092]
  vars:
    ansible_python_interpreter: /opt/datalake/venv/bin/python
    wait_timeout: 120
    expected_brokers: 3
    fully_replicated: true
"""

RETURN = r"""
cluster_id:
  description: The KRaft cluster id.
  returned: always
  type: str
  sample: MkU3OEVBNTcwNTJENDM2Qk
controller_id:
  description: Node id of the active controller, or null when none is known.
  returned: always
  type: int
brokers:
  description: Registered brokers.
  returned: always
  type: list
  elements: dict
  sample: [{node_id: 1, host: kafka1, port: 9092, rack: null}]
topics:
  description: Topic names.
  returned: always
  type: list
  elements: str
offline_partitions:
  description: Partitions (C(topic-index)) that have no leader.
  returned: always
  type: list
  elements: str
under_replicated_partitions:
  description: Partitions whose in-sync replicas are fewer than their replicas.
  returned: always
  type: list
  elements: str
quorum:
  description: The controller quorum (with O(max_quorum_lag)) - leader_id, high_watermark, voters with their lag.
  returned: when max_quorum_lag is set
  type: dict
  sample: {leader_id: 2, high_watermark: 259, voters: [{node_id: 1, log_end_offset: 259, lag: 0}]}
topic_definitions:
  description: Each user topic's name, partitions, replication factor and topic-level config (internal topics left out).
  returned: when topic_definitions is true
  type: list
  elements: dict
  sample: [{name: cdc.sales, partitions: 6, replication_factor: 3, config: {retention.ms: "604800000"}}]
problems:
  description: What kept the cluster from being healthy at the last read (empty when healthy).
  returned: always
  type: list
  elements: str
waited:
  description: Seconds spent waiting for a healthy cluster.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.datalake_fb.platform.plugins.module_utils.health_wait import report, wait_until_healthy
from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    COMMON_ARGUMENT_SPEC,
    KAFKA_IMPORT_ERROR,
    KafkaError,
    admin_client,
    cluster_summary,
    health_problems,
    quorum_summary,
    topic_definitions,
)


def read_summary(params, timeout):
    """One cluster summary, every request bounded by `timeout` seconds."""
    admin = None
    try:
        admin = admin_client(dict(params, timeout=max(1, int(timeout))))
        summary = cluster_summary(admin)
        if params.get("max_quorum_lag") is not None:
            summary["quorum"] = quorum_summary(admin)
        if params.get("topic_definitions"):
            summary["topic_definitions"] = topic_definitions(admin)
        return summary
    finally:
        if admin is not None:
            admin.close()


def wait_for_health(params, clock=time.monotonic, sleep=time.sleep):
    """Poll until healthy or params['wait_timeout'] is over: (summary or None, problems, waited)."""

    def read_once(timeout):
        try:
            summary = read_summary(params, timeout)
        except KafkaError as exc:
            return None, [str(exc) or type(exc).__name__]
        problems = health_problems(
            summary,
            params["expected_brokers"],
            params["fully_replicated"],
            params.get("max_quorum_lag"),
            params.get("expected_voters"),
        )
        return summary, problems

    return wait_until_healthy(read_once, params["wait_timeout"], params["timeout"], clock, sleep)


def main():
    argument_spec = dict(
        COMMON_ARGUMENT_SPEC,
        wait_timeout={"type": "int", "default": 0},
        expected_brokers={"type": "int"},
        fully_replicated={"type": "bool", "default": False},
        max_quorum_lag={"type": "int"},
        expected_voters={"type": "int"},
        topic_definitions={"type": "bool", "default": False},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if KAFKA_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    if module.params["wait_timeout"] < 0:
        module.fail_json(msg=f"wait_timeout must be 0 or more seconds, got {module.params['wait_timeout']}")
    where = f"Kafka at {', '.join(module.params['bootstrap_servers'])}"
    summary, problems, waited = wait_for_health(module.params)
    if summary is None:
        module.fail_json(msg=f"{where}: {'; '.join(problems)}", waited=waited)
    report(module, where, summary, problems, waited)


if __name__ == "__main__":
    main()
