#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: kafka_user
short_description: A Kafka SASL/SCRAM user and exactly the ACLs it is granted
version_added: 1.2.0
description:
  - Creates, updates or deletes a user's SCRAM credential and makes the ACLs of its principal
    (C(User:<name>)) exactly the ones listed; ACLs of the principal that are not listed are removed.
  - The stored credential is a salted hash, so whether the password is current is found out by
    logging in with it; the credential is only rewritten when that login fails.
  - Check mode reports what would change; diff mode shows the ACLs before and after (never the password).
  - Needs a cluster with an authorizer and a SASL listener, and a login allowed to manage users
    and ACLs (a super user, by default the kafka role's admin through O(client_config)).
author: DataLake FB platform engineers
options:
  name:
    description: User name (letters, digits, C(.), C(_) and C(-)).
    type: str
    required: true
  state:
    description: Whether the user (credential and ACLs) should exist.
    type: str
    choices: [present, absent]
    default: present
  password:
    description:
      - The user's password, at least 12 characters, without C(") or C(\\) (it goes into JAAS settings).
      - Required with O(state=present).
    type: str
  mechanism:
    description: SCRAM mechanism of the credential.
    type: str
    choices: [SCRAM-SHA-512, SCRAM-SHA-256]
    default: SCRAM-SHA-512
  iterations:
    description: PBKDF2 iterations of the stored credential (Kafka accepts 4096 to 16384).
    type: int
    default: 8192
  login_bootstrap_servers:
    description: Where to try the user's login (a listener with the mechanism); O(bootstrap_servers) when omitted.
    type: list
    elements: str
  acls:
    description: Everything the user may do (allow rules). An empty list leaves it no ACL at all.
    type: list
    elements: dict
    default: []
    suboptions:
      resource_type:
        description: What the rule is on.
        type: str
        choices: [topic, group, cluster, transactional_id]
        required: true
      name:
        description: The resource's name (a prefix with O(acls[].pattern_type=prefixed)); not used for C(cluster).
        type: str
      pattern_type:
        description: Whether O(acls[].name) is the whole name or a prefix.
        type: str
        choices: [literal, prefixed]
        default: literal
      operations:
        description: The operations allowed.
        type: list
        elements: str
        choices: [all, read, write, create, delete, alter, describe, cluster_action, describe_configs, alter_configs,
                  idempotent_write]
        required: true
      host:
        description: The client address the rule is for.
        type: str
        default: "*"
extends_documentation_fragment:
  - datalake_fb.platform.kafka
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: An application that writes the CDC topics
  datalake_fb.platform.kafka_user:
    name: cdc-writer
    password: "{{ vault_kafka_cdc_writer_password }}"
    acls:
      - {resource_type: topic, name: cdc., pattern_type: prefixed, operations: [write, describe]}
      - {resource_type: cluster, operations: [idempotent_write]}
  vars:
    ansible_python_interpreter: /opt/datalake/venv/bin/python

- name: A consumer of the CDC topics in its own groups
  datalake_fb.platform.kafka_user:
    name: cdc-reader
    password: "{{ vault_kafka_cdc_reader_password }}"
    acls:
      - {resource_type: topic, name: cdc., pattern_type: prefixed, operations: [read, describe]}
      - {resource_type: group, name: cdc-reader, pattern_type: prefixed, operations: [read]}

- name: Retire a user
  datalake_fb.platform.kafka_user:
    name: old-app
    state: absent
"""

RETURN = r"""
credential:
  description: What was done to the SCRAM credential (or would be, in check mode).
  returned: always
  type: str
  sample: unchanged
  choices: [created, updated, unchanged, deleted, absent]
acls_added:
  description: ACLs created, as [resource_type, name, pattern_type, operation, permission, host].
  returned: always
  type: list
  sample: [[topic, cdc., prefixed, write, allow, "*"]]
acls_removed:
  description: ACLs of the principal deleted because they were not listed.
  returned: always
  type: list
  sample: []
"""

import logging
import re

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    ACL_OPERATIONS,
    ACL_PATTERN_TYPES,
    ACL_RESOURCE_TYPES,
    COMMON_ARGUMENT_SPEC,
    KAFKA_IMPORT_ERROR,
    KafkaAdminClient,
    KafkaError,
    acl_entries,
    admin_client,
    connection_options,
    plan_acls,
    sasl_login,
)

try:
    from kafka.admin import (
        ACL,
        ACLFilter,
        ACLOperation,
        ACLPermissionType,
        ACLResourcePatternType,
        ResourcePattern,
        ResourcePatternFilter,
        ResourceType,
        ScramMechanism,
        UserScramCredentialDeletion,
        UserScramCredentialUpsertion,
    )
    from kafka.errors import SaslAuthenticationFailedError
except ImportError:  # reported through KAFKA_IMPORT_ERROR
    SaslAuthenticationFailedError = None

NAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def validate(module):
    params = module.params
    if not NAME.match(params["name"]):
        module.fail_json(msg=f"name {params['name']!r} must be 1-64 letters, digits, '.', '_' or '-'")
    if params["state"] == "present":
        password = params["password"] or ""
        if len(password) < 12 or '"' in password or "\\" in password:
            module.fail_json(
                msg=f"user {params['name']}: the password must be at least 12 characters, without '\"' or '\\'"
            )
    if not 4096 <= params["iterations"] <= 16384:
        module.fail_json(msg=f"iterations must be 4096-16384, got {params['iterations']}")
    for grant in params["acls"]:
        if grant["resource_type"] != "cluster" and not grant.get("name"):
            module.fail_json(msg=f"user {params['name']}: an ACL on a {grant['resource_type']} needs its name")


def to_entry(acl):
    pattern = acl.resource_pattern
    return (
        ResourceType(pattern.resource_type).name.lower(),
        pattern.resource_name,
        ACLResourcePatternType(pattern.pattern_type).name.lower(),
        ACLOperation(acl.operation).name.lower(),
        ACLPermissionType(acl.permission_type).name.lower(),
        acl.host,
    )


def to_acl(principal, entry):
    kind, name, pattern_type, operation, permission, host = entry
    return ACL(
        principal=principal,
        host=host,
        operation=ACLOperation[operation.upper()],
        permission_type=ACLPermissionType[permission.upper()],
        resource_pattern=ResourcePattern(
            ResourceType[kind.upper()], name, ACLResourcePatternType[pattern_type.upper()]
        ),
    )


def current_acls(admin, principal):
    every_resource = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
    acls, error = admin.describe_acls(
        ACLFilter(
            principal=principal,
            host=None,
            operation=ACLOperation.ANY,
            permission_type=ACLPermissionType.ANY,
            resource_pattern=every_resource,
        )
    )
    if error is not None and getattr(error, "errno", 0):
        raise KafkaError(f"listing the ACLs of {principal} failed: {error}")
    return {to_entry(acl) for acl in acls}


def credential_mechanisms(admin, name):
    described = admin.describe_user_scram_credentials([name]).get(name) or {}
    return {ScramMechanism(info["mechanism"]).name.replace("_", "-") for info in described.get("credential_infos", [])}


class RefusedLogins(logging.Handler):
    """kafka-python retries a refused login until its bootstrap times out and only logs the
    refusal; this handler keeps the refusals it logs."""

    def __init__(self):
        super().__init__(level=logging.WARNING)
        self.refusals = []

    def emit(self, record):
        args = record.args if isinstance(record.args, tuple) else ()
        self.refusals += [arg for arg in args if isinstance(arg, SaslAuthenticationFailedError)]


def login_works(params, servers):
    """Whether the user's password opens a session (a refused login is False; other errors raise)."""
    client = None
    # over TLS when the admin's login is (its CA checks the brokers)
    tls = connection_options(params)
    refused = RefusedLogins()
    kafka_log = logging.getLogger("kafka")
    kafka_log.addHandler(refused)
    try:
        client = KafkaAdminClient(
            bootstrap_servers=servers,
            client_id=params["client_id"],
            request_timeout_ms=params["timeout"] * 1000,
            bootstrap_timeout_ms=min(params["timeout"], 10) * 1000,
            **sasl_login(params["name"], params["password"], params["mechanism"], tls.get("ssl_cafile")),
        )
        client.describe_cluster()
        return True
    except SaslAuthenticationFailedError:
        return False
    except KafkaError:
        if refused.refusals:
            return False
        raise
    finally:
        kafka_log.removeHandler(refused)
        if client is not None:
            client.close()


def plan_credential(params, mechanisms):
    """created, updated, unchanged, deleted or absent: what the credential needs."""
    if params["state"] == "absent":
        return "deleted" if mechanisms else "absent"
    if params["mechanism"] not in mechanisms:
        return "created"
    servers = params["login_bootstrap_servers"] or params["bootstrap_servers"]
    return "unchanged" if login_works(params, servers) else "updated"


def apply_credential(admin, params, credential, mechanisms):
    if credential in ("created", "updated"):
        changes = [
            UserScramCredentialUpsertion(
                params["name"], params["mechanism"], params["password"], iterations=params["iterations"]
            )
        ]
    elif credential == "deleted":
        changes = [UserScramCredentialDeletion(params["name"], mechanism) for mechanism in sorted(mechanisms)]
    else:
        return
    failed = admin.alter_user_scram_credentials(changes).get(params["name"])
    if failed:
        raise KafkaError(f"changing the credential of {params['name']} failed: {failed}")


def apply_acls(admin, principal, add, remove):
    if add:
        created = admin.create_acls([to_acl(principal, entry) for entry in add])
        if created["failed"]:
            raise KafkaError(f"creating ACLs of {principal} failed: {created['failed']}")
    if remove:
        for _filter, _matched, error in admin.delete_acls([to_acl(principal, entry) for entry in remove]):
            if error is not None and getattr(error, "errno", 0):
                raise KafkaError(f"deleting ACLs of {principal} failed: {error}")


def main():
    argument_spec = dict(COMMON_ARGUMENT_SPEC)
    argument_spec.update(
        name={"type": "str", "required": True},
        state={"type": "str", "choices": ["present", "absent"], "default": "present"},
        password={"type": "str", "no_log": True},
        mechanism={"type": "str", "choices": ["SCRAM-SHA-512", "SCRAM-SHA-256"], "default": "SCRAM-SHA-512"},
        iterations={"type": "int", "default": 8192},
        login_bootstrap_servers={"type": "list", "elements": "str"},
        acls={
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {
                "resource_type": {"type": "str", "choices": ACL_RESOURCE_TYPES, "required": True},
                "name": {"type": "str"},
                "pattern_type": {"type": "str", "choices": ACL_PATTERN_TYPES, "default": "literal"},
                "operations": {"type": "list", "elements": "str", "choices": ACL_OPERATIONS, "required": True},
                "host": {"type": "str", "default": "*"},
            },
        },
    )
    module = AnsibleModule(
        argument_spec=argument_spec, supports_check_mode=True, required_if=[("state", "present", ["password"])]
    )
    if KAFKA_IMPORT_ERROR:
        module.fail_json(msg=missing_required_lib("kafka-python"), exception=KAFKA_IMPORT_ERROR)
    validate(module)
    params = module.params
    present = params["state"] == "present"
    principal = f"User:{params['name']}"
    admin = None
    try:
        admin = admin_client(params)
        mechanisms = credential_mechanisms(admin, params["name"])
        credential = plan_credential(params, mechanisms)
        before = current_acls(admin, principal)
        add, remove = plan_acls(before, acl_entries(params["acls"]) if present else set())
        if not module.check_mode:
            apply_credential(admin, params, credential, mechanisms)
            apply_acls(admin, principal, add, remove)
    except KafkaError as exc:
        module.fail_json(msg=f"Kafka user {params['name']} on {', '.join(params['bootstrap_servers'])}: {exc}")
    finally:
        if admin is not None:
            admin.close()
    result = {
        "changed": credential not in ("unchanged", "absent") or bool(add) or bool(remove),
        "credential": credential,
        "acls_added": [list(entry) for entry in add],
        "acls_removed": [list(entry) for entry in remove],
    }
    if module._diff:
        after = (before - set(remove)) | set(add)
        result["diff"] = {
            "before": {"credential": sorted(mechanisms), "acls": sorted(map(list, before))},
            "after": {"credential": [params["mechanism"]] if present else [], "acls": sorted(map(list, after))},
        }
    module.exit_json(**result)


if __name__ == "__main__":
    main()
