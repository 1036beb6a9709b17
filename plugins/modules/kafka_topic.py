#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_topic
short_description: Create, grow, configure or delete a Kafka topic
version_added: 1.0.0
description:
  - Reads the topic's current partitions, replication factor and the config keys asked for,
    and changes only what differs. Check mode reports what would change; diff mode shows it.
  - Partitions can only grow and the replication factor cannot change in place; asking for
    either fails with a clear message before anything is changed.
author: DataLake FB platform engineers
options:
  name:
    description: Topic name.
    type: str
    required: true
  state:
    description: Whether the topic should exist.
    type: str
    choices: [present, absent]
    default: present
  partitions:
    description: Number of partitions (the broker default when omitted at creation).
    type: int
  replication_factor:
    description: Replication factor (the broker default when omitted at creation).
    type: int
  config:
    description: Topic config to enforce, for example C(retention.ms). Keys not listed are left alone.
    type: dict
    default: {}
extends_documentation_fragment:
  - datalake_fb.platform.kafka
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: CDC topic with a week of retention
  datalake_fb.platform.kafka_topic:
    bootstrap_servers: [kafka1:9092]
    name: cdc.sales.vendas
    partitions: 6
    replication_factor: 3
    config:
      retention.ms: 604800000
      min.insync.replicas: 2
  vars:
    ansible_python_interpreter: /opt/datalake/venv/bin/python

- name: Remove a scratch topic
  datalake_fb.platform.kafka_topic:
    name: scratch
    state: absent
"""

RETURN = r"""
topic:
  description: The topic after the run (as it would be, in check mode); null when absent.
  returned: always
  type: dict
  sample: {partitions: 6, replication_factor: 3, config: {retention.ms: "604800000"}}
actions:
  description: What was done (or would be done in check mode).
  returned: always
  type: dict
  sample: {create: false, delete: false, add_partitions: 12, alter_config: {retention.ms: "86400000"}}
"""

import copy

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    COMMON_ARGUMENT_SPEC,
    KAFKA_IMPORT_ERROR,
    KafkaError,
    TopicPlanError,
    admin_client,
    apply_plan,
    describe_topic,
    normalize_config,
    plan_changes,
    plan_topic,
)


def expected_state(current, wanted, plan):
    """The topic as it will be once the plan is applied."""
    if plan["delete"] or wanted["state"] == "absent":
        return None
    if plan["create"]:
        return {
            "partitions": wanted["partitions"],
            "replication_factor": wanted["replication_factor"],
            "config": normalize_config(wanted["config"]),
        }
    after = copy.deepcopy(current)
    if plan["add_partitions"] is not None:
        after["partitions"] = plan["add_partitions"]
    after["config"].update(plan["alter_config"])
    return after


def validate(module):
    params = module.params
    if not params["name"] or len(params["name"]) > 249 or not all(c.isalnum() or c in "._-" for c in params["name"]):
        module.fail_json(
            msg=f"name {params['name']!r} is not a valid Kafka topic name "
            "(1-249 characters of letters, digits, '.', '_' and '-')"
        )
    for key in ("partitions", "replication_factor"):
        if params[key] is not None and params[key] < 1:
            module.fail_json(msg=f"{key} must be at least 1, got {params[key]}")


def main():
    argument_spec = dict(COMMON_ARGUMENT_SPEC)
    argument_spec.update(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        partitions={"type": "int"},
        replication_factor={"type": "int"},
        config={"type": "dict", "default": {}},
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    if KAFKA_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    validate(module)
    params = module.params
    wanted = {key: params[key] for key in ("state", "partitions", "replication_factor", "config")}
    admin = None
    try:
        admin = admin_client(params)
        current = describe_topic(admin, params["name"], sorted(normalize_config(params["config"])))
        plan = plan_topic(current, wanted)
        changed = plan_changes(plan)
        if changed and not module.check_mode:
            apply_plan(admin, params["name"], wanted, plan, params["timeout"] * 1000)
    except TopicPlanError as exc:
        module.fail_json(msg=f"topic {params['name']}: {exc}")
    except KafkaError as exc:
        module.fail_json(msg=f"topic {params['name']} on {', '.join(params['bootstrap_servers'])}: {exc}")
    finally:
        if admin is not None:
            admin.close()
    after = expected_state(current, wanted, plan)
    result = {"changed": changed, "topic": after, "actions": plan}
    if module._diff:
        result["diff"] = {
            "before": current or {},
            "after": after or {},
            "before_header": f"topic {params['name']}",
            "after_header": f"topic {params['name']}",
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
