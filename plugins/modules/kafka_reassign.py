#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_reassign
short_description: Move Kafka partition replicas onto a set of brokers (drain a leaving broker, fill a new one)
version_added: 1.0.0
description:
  - Reads every partition's replicas (internal topics included) and moves the replicas that sit on a
    broker outside O(brokers) to the least loaded broker of O(brokers) that does not hold the
    partition yet; with O(balance), it also spreads replicas until the brokers' replica counts
    differ by one at most (for a new broker). Replicas already on allowed brokers stay put.
  - The reassignment is one request to the controller; the module then waits until Kafka reports
    no reassignment in progress and every partition's in-sync replicas are its new replicas, so a
    broker drained this way can be stopped without an under-replicated partition.
  - Fails before any change when a target broker is not registered or a partition has more
    replicas than there are target brokers. Check mode reports the plan only.
author: DataLake FB platform engineers
options:
  brokers:
    description: Node ids of the brokers the replicas may use.
    type: list
    elements: int
    required: true
  balance:
    description: Also even out the replica counts across O(brokers).
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait for the moved replicas to be in sync.
    type: int
    default: 600
extends_documentation_fragment:
  - datalake_fb.platform.kafka
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Move every replica off broker 4 before it leaves
  datalake_fb.platform.kafka_reassign:
    bootstrap_servers: [kafka1:9092]
    brokers: [1, 2, 3]
  vars:
    ansible_python_interpreter: /opt/datalake/venv/bin/python

- name: Spread the partitions onto a new broker 4
  datalake_fb.platform.kafka_reassign:
    brokers: [1, 2, 3, 4]
    balance: true
"""

RETURN = r"""
moves:
  description: The partitions (C(topic-index)) whose replicas change, with their old and new replicas.
  returned: always
  type: dict
  sample: {cdc.sales-0: {old: [4, 1, 2], new: [3, 1, 2]}}
replica_counts:
  description: Replicas per broker after the move (as planned, in check mode).
  returned: always
  type: dict
  sample: {"1": 34, "2": 34, "3": 33}
waited:
  description: Seconds spent waiting for the new replicas to be in sync.
  returned: always
  type: float
"""

import time

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    COMMON_ARGUMENT_SPEC,
    KAFKA_IMPORT_ERROR,
    KafkaError,
    ReassignmentPlanError,
    admin_client,
    plan_reassignment,
)

try:
    from kafka import TopicPartition
except ImportError:  # KAFKA_IMPORT_ERROR says so
    TopicPartition = None


def read_partitions(admin):
    """{"topic-index": {"topic", "partition", "replicas", "isr"}} of every partition."""
    partitions = {}
    for topic in admin.describe_topics():
        for partition in topic.get("partitions") or []:
            partitions[f"{topic['name']}-{partition['partition_index']}"] = {
                "topic": topic["name"],
                "partition": partition["partition_index"],
                "replicas": list(partition.get("replica_nodes", [])),
                "isr": list(partition.get("isr_nodes", [])),
            }
    return partitions


def not_done(admin, plan):
    """Partitions of the plan that are still moving or whose new replicas are not all in sync."""
    if admin.list_partition_reassignments():
        return sorted(plan)
    partitions = read_partitions(admin)
    return sorted(
        name
        for name, replicas in plan.items()
        if name not in partitions
        or partitions[name]["replicas"] != replicas
        or set(partitions[name]["isr"]) != set(replicas)
    )


def replica_counts(partitions, plan):
    counts = {}
    for name, partition in partitions.items():
        for broker in plan.get(name, partition["replicas"]):
            counts[str(broker)] = counts.get(str(broker), 0) + 1
    return dict(sorted(counts.items()))


def apply_and_wait(module, admin, partitions, plan, result):
    """Send the plan to the controller, then wait until every moved partition is in sync."""
    request = {TopicPartition(partitions[n]["topic"], partitions[n]["partition"]): r for n, r in plan.items()}
    outcome = admin.alter_partition_reassignments(request)
    refused = {f"{tp.topic}-{tp.partition}": str(err) for tp, err in outcome.items() if err}
    if refused:
        module.fail_json(msg=f"Kafka refused the reassignment of {refused}", **result)
    started = time.monotonic()
    while True:
        pending = not_done(admin, plan)
        waited = round(time.monotonic() - started, 1)
        if not pending:
            module.exit_json(waited=waited, **result)
        if waited >= module.params["wait_timeout"]:
            listed = ", ".join(pending[:10])
            module.fail_json(
                msg=f"after {waited} s, {len(pending)} moved partitions are not in sync yet ({listed})",
                waited=waited,
                **result,
            )
        time.sleep(2)


def main():
    argument_spec = dict(
        COMMON_ARGUMENT_SPEC,
        brokers={"type": "list", "elements": "int", "required": True},
        balance={"type": "bool", "default": False},
        wait_timeout={"type": "int", "default": 600},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if KAFKA_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    params = module.params
    if not params["brokers"]:
        module.fail_json(msg="brokers must name at least one broker")
    if params["wait_timeout"] < 0:
        module.fail_json(msg=f"wait_timeout must be 0 or more seconds, got {params['wait_timeout']}")
    admin = None
    try:
        admin = admin_client(params)
        registered = sorted(b["broker_id"] for b in admin.describe_cluster().get("brokers", []))
        unknown = sorted(set(params["brokers"]) - set(registered))
        if unknown:
            module.fail_json(msg=f"brokers {unknown} are not registered (registered: {registered}): nothing was moved")
        partitions = read_partitions(admin)
        plan = plan_reassignment(
            {name: p["replicas"] for name, p in partitions.items()}, params["brokers"], params["balance"]
        )
        moves = {name: {"old": partitions[name]["replicas"], "new": replicas} for name, replicas in plan.items()}
        result = {"changed": bool(plan), "moves": moves, "replica_counts": replica_counts(partitions, plan)}
        if module.check_mode or not plan:
            module.exit_json(waited=0.0, **result)
        apply_and_wait(module, admin, partitions, plan, result)
    except ReassignmentPlanError as exc:
        module.fail_json(msg=f"nothing was moved: {exc}")
    except KafkaError as exc:
        module.fail_json(msg=f"Kafka at {', '.join(params['bootstrap_servers'])}: {exc or type(exc).__name__}")
    finally:
        if admin is not None:
            admin.close()


if __name__ == "__main__":
    main()
