# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Kafka admin helpers for the kafka_* modules, on kafka-python (>= 2.1, which speaks the
protocol versions Kafka 4.x still accepts).

The comparison logic (what must change for a topic) is pure and separate from the client calls,
so it is unit-tested without a broker.
"""

from __future__ import annotations

import os
import re
import traceback

KAFKA_IMPORT_ERROR = None
try:
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType
    from kafka.errors import KafkaError
except ImportError:  # the module reports it with missing_required_lib
    KafkaAdminClient = ConfigResource = ConfigResourceType = None
    KafkaError = Exception
    KAFKA_IMPORT_ERROR = traceback.format_exc()

UNKNOWN_TOPIC_OR_PARTITION = 3

# The kafka role writes the admin's login here (root only), in the format of Kafka's own
# --command-config; a module on a broker node finds it without being given a password.
DEFAULT_CLIENT_CONFIG = "/etc/kafka/admin-client.properties"
SASL_MECHANISMS = ["SCRAM-SHA-512", "SCRAM-SHA-256", "PLAIN"]

COMMON_ARGUMENT_SPEC = {
    "bootstrap_servers": {"type": "list", "elements": "str", "default": ["localhost:9092"]},
    "timeout": {"type": "int", "default": 30},
    "client_id": {"type": "str", "default": "datalake-fb-ansible"},
    "client_config": {"type": "path", "default": DEFAULT_CLIENT_CONFIG},
    "sasl_username": {"type": "str"},
    "sasl_password": {"type": "str", "no_log": True},
    "sasl_mechanism": {"type": "str", "choices": SASL_MECHANISMS, "default": "SCRAM-SHA-512"},
    "ssl_cafile": {"type": "path"},
}


class TopicPlanError(ValueError):
    """The requested topic state cannot be reached safely (the message says why)."""


def client_properties(text):
    """kafka-python's security settings from a Kafka client properties file (security.protocol,
    sasl.mechanism and the username and password of sasl.jaas.config)."""
    properties = {}
    for raw in text.splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "!")) and "=" in line:
            key, value = line.split("=", 1)
            properties[key.strip()] = value.strip()
    options = {}
    if "security.protocol" in properties:
        options["security_protocol"] = properties["security.protocol"]
    if "sasl.mechanism" in properties:
        options["sasl_mechanism"] = properties["sasl.mechanism"]
    if properties.get("ssl.truststore.type", "").upper() == "PEM" and "ssl.truststore.location" in properties:
        options["ssl_cafile"] = properties["ssl.truststore.location"]
    jaas = properties.get("sasl.jaas.config", "")
    for field in ("username", "password"):
        found = re.search(rf'\b{field}="([^"]*)"', jaas)
        if found:
            options[f"sasl_plain_{field}"] = found.group(1)
    return options


def sasl_login(username, password, mechanism="SCRAM-SHA-512", cafile=None):
    """kafka-python's settings for a SASL login: over TLS when the CA's file is given."""
    login = {
        "security_protocol": "SASL_SSL" if cafile else "SASL_PLAINTEXT",
        "sasl_mechanism": mechanism,
        "sasl_plain_username": username,
        "sasl_plain_password": password or "",
    }
    if cafile:
        login["ssl_cafile"] = cafile
    return login


def connection_options(params):
    """How to log in: the SASL login given as parameters, else the client config file's (when it
    exists), else none (a PLAINTEXT listener)."""
    if params.get("sasl_username"):
        return sasl_login(
            params["sasl_username"],
            params.get("sasl_password"),
            params.get("sasl_mechanism") or SASL_MECHANISMS[0],
            params.get("ssl_cafile"),
        )
    path = params.get("client_config", DEFAULT_CLIENT_CONFIG)
    if path and os.path.isfile(path):
        with open(path, encoding="utf-8") as handle:
            return client_properties(handle.read())
    return {}


def admin_client(params):
    """An admin client for the module's common parameters."""
    return KafkaAdminClient(
        bootstrap_servers=params["bootstrap_servers"],
        client_id=params["client_id"],
        request_timeout_ms=params["timeout"] * 1000,
        **connection_options(params),
    )


def normalize_config(config):
    """Kafka reports every config value as a string; compare like with like."""
    return {
        str(key): ("true" if value else "false") if isinstance(value, bool) else str(value)
        for key, value in (config or {}).items()
    }


def plan_topic(current, wanted):
    """Work out what to do to move a topic from `current` to `wanted`.

    current: None (no topic) or {"partitions": int, "replication_factor": int, "config": {str: str}}
    wanted: {"state": "present"|"absent", "partitions": int|None, "replication_factor": int|None,
             "config": {str: str}}
    Returns a dict of actions: create, delete, add_partitions (new total), alter_config ({key: value}).
    Raises TopicPlanError for changes Kafka cannot make in place.
    """
    plan = {"create": False, "delete": False, "add_partitions": None, "alter_config": {}}
    if wanted["state"] == "absent":
        plan["delete"] = current is not None
        return plan
    if current is None:
        plan["create"] = True
        return plan
    partitions = wanted.get("partitions")
    if partitions is not None:
        if partitions < current["partitions"]:
            raise TopicPlanError(
                f"the topic has {current['partitions']} partitions and Kafka cannot remove partitions "
                f"(asked for {partitions}); create a new topic instead"
            )
        if partitions > current["partitions"]:
            plan["add_partitions"] = partitions
    factor = wanted.get("replication_factor")
    if factor is not None and factor != current["replication_factor"]:
        raise TopicPlanError(
            f"the topic's replication factor is {current['replication_factor']}, not {factor}; changing it "
            "needs a partition reassignment, which this module does not do"
        )
    current_config = current.get("config", {})
    plan["alter_config"] = {
        key: value for key, value in normalize_config(wanted.get("config")).items() if current_config.get(key) != value
    }
    return plan


def plan_changes(plan):
    return plan["create"] or plan["delete"] or plan["add_partitions"] is not None or bool(plan["alter_config"])


def describe_topic(admin, name, config_keys):
    """The topic's partitions, replication factor and the values of config_keys; None if absent."""
    topics = admin.describe_topics([name])
    if not topics or topics[0].get("error_code") == UNKNOWN_TOPIC_OR_PARTITION:
        return None
    topic = topics[0]
    if topic.get("error_code"):
        raise KafkaError(f"describing topic {name} failed with error code {topic['error_code']}")
    partitions = topic.get("partitions") or []
    factor = len(partitions[0].get("replica_nodes", [])) if partitions else 0
    config = {}
    if config_keys:
        resource = ConfigResource(ConfigResourceType.TOPIC, name)
        described = admin.describe_configs([resource], config_filter="all")
        entries = described.get("topic", {}).get(name, {})
        config = {key: entries[key]["value"] for key in config_keys if key in entries}
    return {"partitions": len(partitions), "replication_factor": factor, "config": config}


def apply_plan(admin, name, wanted, plan, timeout_ms):
    """Carry out a plan from plan_topic."""
    if plan["delete"]:
        admin.delete_topics([name], timeout_ms=timeout_ms)
        return
    if plan["create"]:
        admin.create_topics(
            {
                name: {
                    "num_partitions": wanted["partitions"] or -1,
                    "replication_factor": wanted["replication_factor"] or -1,
                    "configs": normalize_config(wanted.get("config")),
                }
            },
            timeout_ms=timeout_ms,
            wait_for_metadata=True,
        )
        return
    if plan["add_partitions"] is not None:
        admin.create_partitions({name: plan["add_partitions"]}, timeout_ms=timeout_ms)
    if plan["alter_config"]:
        resource = ConfigResource(ConfigResourceType.TOPIC, name, configs=dict(plan["alter_config"]))
        result = admin.alter_configs([resource])
        outcome = result.get("topic", {}).get(name, "OK")
        if outcome != "OK":
            raise KafkaError(f"changing the config of {name} failed: {outcome}")


def cluster_summary(admin):
    """Brokers, controller and partition health of the whole cluster."""
    cluster = admin.describe_cluster()
    topics = admin.describe_topics()
    offline, under_replicated = [], []
    for topic in topics:
        for partition in topic.get("partitions") or []:
            label = f"{topic['name']}-{partition['partition_index']}"
            if partition.get("leader_id", -1) < 0:
                offline.append(label)
            elif len(partition.get("isr_nodes", [])) < len(partition.get("replica_nodes", [])):
                under_replicated.append(label)
    controller = cluster.get("controller_id")
    return {
        "cluster_id": cluster.get("cluster_id"),
        "controller_id": controller if controller is not None and controller >= 0 else None,
        "brokers": sorted(
            (
                {"node_id": b["broker_id"], "host": b["host"], "port": b["port"], "rack": b.get("rack")}
                for b in cluster.get("brokers", [])
            ),
            key=lambda broker: broker["node_id"],
        ),
        "topics": sorted(t["name"] for t in topics),
        "offline_partitions": offline,
        "under_replicated_partitions": under_replicated,
    }


def topic_definitions(admin):
    """What recreates every user topic: partitions, replication factor and the topic-level config
    (only values set on the topic itself, not broker defaults). Internal topics (__*) are left out."""
    topics = [t for t in admin.describe_topics() if not t["name"].startswith("__")]
    names = sorted(t["name"] for t in topics)
    described = {}
    if names:
        resources = [ConfigResource(ConfigResourceType.TOPIC, name) for name in names]
        described = admin.describe_configs(resources, config_filter="all").get("topic", {})
    definitions = []
    for topic in sorted(topics, key=lambda t: t["name"]):
        partitions = topic.get("partitions") or []
        entries = described.get(topic["name"], {})
        definitions.append(
            {
                "name": topic["name"],
                "partitions": len(partitions),
                "replication_factor": len(partitions[0].get("replica_nodes", [])) if partitions else 0,
                "config": {
                    key: entry["value"]
                    for key, entry in sorted(entries.items())
                    if entry.get("config_source") == "DYNAMIC_TOPIC_CONFIG" and entry.get("value") is not None
                },
            }
        )
    return definitions


# ACLs as plain tuples (resource type, resource name, pattern type, operation, permission, host),
# lower case, so that what a module is asked for and what a cluster holds compare directly.
ACL_RESOURCE_TYPES = ["topic", "group", "cluster", "transactional_id"]
ACL_PATTERN_TYPES = ["literal", "prefixed"]
ACL_OPERATIONS = [
    "all",
    "read",
    "write",
    "create",
    "delete",
    "alter",
    "describe",
    "cluster_action",
    "describe_configs",
    "alter_configs",
    "idempotent_write",
]
# Kafka's one cluster resource is named so.
CLUSTER_RESOURCE_NAME = "kafka-cluster"


def acl_entries(acls):
    """The ACL tuples a list of grants asks for: {resource_type, name, pattern_type, operations, host}
    each (allow only; the cluster resource needs no name)."""
    entries = set()
    for grant in acls:
        kind = grant["resource_type"]
        name = CLUSTER_RESOURCE_NAME if kind == "cluster" else grant["name"]
        for operation in grant["operations"]:
            entries.add(
                (kind, name, grant.get("pattern_type") or "literal", operation, "allow", grant.get("host") or "*")
            )
    return entries


def plan_acls(current, wanted):
    """The ACL tuples to create and to delete so that a principal holds exactly `wanted`."""
    return sorted(wanted - current), sorted(current - wanted)


class ReassignmentPlanError(ValueError):
    """The partitions cannot be placed on the requested brokers (the message says why)."""


def balance_replicas(assignments, plan, load):
    """Move replicas (in `plan`, updating `load`) from the most to the least loaded broker until
    their replica counts differ by one at most. A follower moves before a preferred leader."""
    brokers = sorted(load)
    while brokers:
        busiest = max(brokers, key=lambda b: (load[b], -b))
        idlest = min(brokers, key=lambda b: (load[b], b))
        if load[busiest] - load[idlest] <= 1:
            return
        candidates = [
            name
            for name in sorted(assignments)
            if busiest in plan.get(name, assignments[name]) and idlest not in plan.get(name, assignments[name])
        ]
        if not candidates:
            return
        name = max(candidates, key=lambda n: plan.get(n, assignments[n]).index(busiest))
        replicas = list(plan.get(name, assignments[name]))
        replicas[replicas.index(busiest)] = idlest
        load[busiest] -= 1
        load[idlest] += 1
        if replicas == assignments[name]:
            plan.pop(name, None)
        else:
            plan[name] = replicas


def plan_reassignment(assignments, brokers, balance=False):
    """New replica lists that place every partition on `brokers` only.

    assignments: {"topic-index": [replica broker ids, preferred leader first]}
    brokers: the broker ids the partitions may use (a leaving broker is left out; a new one is in).
    balance: also move replicas from the most to the least loaded brokers until their replica
             counts differ by one at most (to spread onto a new broker).
    Replicas on allowed brokers stay where they are (and keep their order); a replica on a broker
    that is not allowed moves to the least loaded allowed broker that does not hold the partition
    yet. Returns {"topic-index": new replicas} for the partitions that change. Raises
    ReassignmentPlanError when a partition has more replicas than there are allowed brokers.
    """
    allowed = sorted(set(brokers))
    load = {broker: 0 for broker in allowed}
    for replicas in assignments.values():
        for broker in replicas:
            if broker in load:
                load[broker] += 1
    plan = {}
    for name in sorted(assignments):
        replicas = list(assignments[name])
        if len(replicas) > len(allowed):
            raise ReassignmentPlanError(
                f"{name} has {len(replicas)} replicas and only {len(allowed)} brokers would be left "
                f"({', '.join(map(str, allowed)) or 'none'}): lower its replication factor or add a broker first"
            )
        for position, broker in enumerate(replicas):
            if broker in load:
                continue
            target = min((b for b in allowed if b not in replicas), key=lambda b: (load[b], b))
            replicas[position] = target
            load[target] += 1
        if replicas != assignments[name]:
            plan[name] = replicas
    if balance:
        balance_replicas(assignments, plan, load)
    return plan


def quorum_summary(admin):
    """The KRaft controller quorum: leader, high watermark and each voter's lag behind it."""
    described = admin.describe_metadata_quorum()
    partition = described["topics"][0]["partitions"][0]
    watermark = partition.get("high_watermark", -1)
    voters = [
        {
            "node_id": v["replica_id"],
            "log_end_offset": v["log_end_offset"],
            "lag": max(0, watermark - v["log_end_offset"]),
        }
        for v in partition.get("current_voters", [])
    ]
    return {"leader_id": partition.get("leader_id"), "high_watermark": watermark, "voters": voters}


def health_problems(summary, expected_brokers=None, fully_replicated=False, max_quorum_lag=None, expected_voters=None):
    """What keeps a cluster summary from being healthy (an empty list: healthy).

    Healthy: the expected number of brokers registered, a controller elected, no partition
    without a leader and, when fully_replicated, none with fewer in-sync replicas than replicas;
    with max_quorum_lag, the expected number of quorum voters (expected_voters, else every broker
    votes) each within that many records of the leader.
    """
    if expected_voters is None:
        expected_voters = expected_brokers
    problems = []
    if expected_brokers is not None and len(summary["brokers"]) != expected_brokers:
        problems.append(f"{len(summary['brokers'])} of {expected_brokers} brokers registered")
    if summary["controller_id"] is None:
        problems.append("no active controller")
    if summary["offline_partitions"]:
        problems.append(f"offline partitions: {', '.join(summary['offline_partitions'][:10])}")
    if fully_replicated and summary["under_replicated_partitions"]:
        problems.append(f"under-replicated partitions: {', '.join(summary['under_replicated_partitions'][:10])}")
    if max_quorum_lag is not None:
        quorum = summary.get("quorum") or {"voters": []}
        behind = [f"{v['node_id']} ({v['lag']})" for v in quorum["voters"] if v["lag"] > max_quorum_lag]
        if expected_voters is not None and len(quorum["voters"]) != expected_voters:
            problems.append(f"{len(quorum['voters'])} of {expected_voters} quorum voters")
        if behind:
            problems.append(
                f"quorum voters behind the leader by more than {max_quorum_lag} records: {', '.join(behind)}"
            )
    return problems
