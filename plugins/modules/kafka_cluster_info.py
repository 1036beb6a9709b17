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
    registered, a controller elected, no partition without a leader.
author: DataLake FB platform engineers
options: {}
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
  register: cluster
  until: cluster is succeeded and cluster.brokers | length == 3
  retries: 20
  delay: 3
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
"""

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    COMMON_ARGUMENT_SPEC,
    KAFKA_IMPORT_ERROR,
    KafkaError,
    admin_client,
    cluster_summary,
)


def main():
    module = AnsibleModule(argument_spec=dict(COMMON_ARGUMENT_SPEC), supports_check_mode=True)
    if KAFKA_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    admin = None
    try:
        admin = admin_client(module.params)
        summary = cluster_summary(admin)
    except KafkaError as exc:
        module.fail_json(msg=f"Kafka at {', '.join(module.params['bootstrap_servers'])}: {exc}")
    finally:
        if admin is not None:
            admin.close()
    module.exit_json(changed=False, **summary)


if __name__ == "__main__":
    main()
