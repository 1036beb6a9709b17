# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Filters shared by the datalake_fb.platform roles."""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import json
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.datalake_fb.platform.plugins.module_utils import galera
from ansible_collections.datalake_fb.platform.plugins.module_utils.iceberg_maintenance import (
    MaintenanceInputError,
    normalize_request,
)

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?\s*$", re.IGNORECASE)
_FACTOR_MB = {"": 1.0 / (1024 * 1024), "k": 1.0 / 1024, "m": 1.0, "g": 1024.0, "t": 1024.0 * 1024}


def to_megabytes(value):
    """Parse a JVM/Spark-style size ("512m", "4g", "1.5G", "2048", "8GiB") into whole MiB.

    A bare number is bytes, as the JVM reads it.
    """
    if isinstance(value, bool):
        raise AnsibleFilterError(f"to_megabytes: expected a size such as '512m' or '4g', got {value!r}")
    if isinstance(value, (int, float)):
        number, unit = float(value), ""
    else:
        match = _SIZE.match(str(value))
        if not match:
            raise AnsibleFilterError(f"to_megabytes: expected a size such as '512m' or '4g', got {value!r}")
        number, unit = float(match.group(1)), match.group(2).lower()
    if number <= 0:
        raise AnsibleFilterError(f"to_megabytes: a size must be positive, got {value!r}")
    return int(number * _FACTOR_MB[unit])


def rewrite_url(url, rewrites):
    """Replace the longest matching prefix of url using a {prefix: replacement} map (mirrors)."""
    if not isinstance(rewrites, dict):
        raise AnsibleFilterError(f"rewrite_url: rewrites must be a dict of prefix: replacement, got {rewrites!r}")
    for prefix in sorted(rewrites, key=len, reverse=True):
        if url.startswith(prefix):
            return rewrites[prefix] + url[len(prefix) :]
    return url


def artifact_plan(items, catalog, node_dir, source="cache", manifest=None, rewrites=None, overrides=None):
    """Expand [{component, version, dest?, mode?, exclusive?}] into one entry per pinned file.

    Each entry: component, version, file (path in the cache), sha256, url, dest (path on the
    node), dir, mode, exclusive and line (a sha256sum line for dest). The sha256 is the catalog
    pin, or for built binaries the cache manifest's record (or an override in `url` mode).
    """
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise AnsibleFilterError(f"artifact_plan: expected a list of {{component, version}} dicts, got {items!r}")
    recorded = {entry.get("file"): entry.get("sha256") for entry in (manifest or {}).get("artifacts", [])}
    rewrites, overrides = rewrites or {}, overrides or {}
    plan = []
    for item in items:
        component, version = item.get("component"), str(item.get("version", ""))
        pinned = [entry for entry in catalog if entry.get("component") == component]
        wanted = [entry for entry in pinned if str(entry.get("version")) == version]
        if not wanted:
            versions = ", ".join(sorted({str(entry.get("version")) for entry in pinned})) or "none"
            raise AnsibleFilterError(
                f"no artifact is pinned for {component} version {version} (pinned versions: {versions})"
            )
        directory = item.get("dest") or f"{node_dir}/{component}"
        for entry in wanted:
            override = overrides.get(entry["file"], {}) if source == "url" else {}
            sha256 = override.get("sha256") or entry.get("sha256") or recorded.get(entry["file"])
            if not sha256:
                raise AnsibleFilterError(
                    f"{entry['file']} has no known sha256: it is built, so fill the cache (make artifacts) or, in url "
                    f"mode, give artifact_cache_url_overrides['{entry['file']}'] a url and sha256"
                )
            url = override.get("url") or (rewrite_url(entry["url"], rewrites) if entry.get("url") else None)
            dest = f"{directory}/{entry['file'].rsplit('/', 1)[-1]}"
            plan.append(
                {
                    "component": component,
                    "version": version,
                    "file": entry["file"],
                    "sha256": sha256,
                    "url": url,
                    "dest": dest,
                    "dir": directory,
                    "mode": item.get("mode", "0644"),
                    "exclusive": bool(item.get("exclusive", False)),
                    "line": f"{sha256}  {dest}",
                }
            )
    return plan


def iceberg_maintenance_request(policy, catalog="lakehouse"):
    """Check one table's maintenance policy (the iceberg_maintenance module's options) and return
    the normalized request (sizes in bytes, durations in seconds) - the module's own checks."""
    if not isinstance(policy, dict) or not policy.get("table"):
        raise AnsibleFilterError(f"iceberg_maintenance_request: a policy needs a table, got {policy!r}")
    try:
        request = normalize_request(dict(policy, catalog=policy.get("catalog", catalog)))
    except MaintenanceInputError as error:
        raise AnsibleFilterError(f"Iceberg maintenance policy of {policy['table']}: {error}") from None
    if not request["actions"]:
        raise AnsibleFilterError(f"Iceberg maintenance policy of {policy['table']}: no action is enabled")
    return request


def galera_node_state(raw):
    """One node's state for galera_plan from what the mariadb role read on it (see galera.py).

    raw: {host, running, wsrep_on, cluster_status, grastate (text or None), recovered (galera_recovery
    output or None), has_data}.
    """
    if not isinstance(raw, dict) or "host" not in raw:
        raise AnsibleFilterError(f"galera_node_state: expected a dict with a host, got {raw!r}")
    state = {key: raw.get(key) for key in ("host", "running", "wsrep_on", "cluster_status", "has_data")}
    state["reachable"] = raw.get("reachable", True)
    state.update(galera.parse_grastate(raw.get("grastate")))
    recovered = galera.parse_recovered_position(raw.get("recovered"))
    if recovered and (state["seqno"] is None or state["seqno"] < 0):
        state["seqno"] = recovered["seqno"]
        state["uuid"] = state["uuid"] or recovered["uuid"]
    return state


def galera_plan(states, allow_recovery=False, hosts=None):
    """How to start a Galera cluster from its nodes' states (module_utils/galera.py).

    hosts: every node of the cluster, in order; one without a state (unreachable, or outside
    the play's --limit) counts as unreachable.
    """
    if isinstance(states, list) and hosts:
        known = {state.get("host"): state for state in states if isinstance(state, dict)}
        states = [known.get(host, {"host": host, "reachable": False}) for host in hosts]
    try:
        return galera.plan(states, allow_recovery=allow_recovery)
    except galera.GaleraPlanError as exc:
        raise AnsibleFilterError(f"galera_plan: {exc}") from exc


def _default_parity(set_size):
    """MinIO's default parity (EC:N) for an erasure set of this size."""
    if set_size == 1:
        return 0
    return 1 if set_size <= 3 else 2 if set_size <= 5 else 3 if set_size <= 7 else 4


def minio_layout(nodes, drives_per_node, storage_class=""):
    """The erasure layout MinIO gives nodes x drives, and whether it survives losing one node.

    Set size: the largest of 2-16 that divides the drives and spreads evenly over the nodes.
    Write quorum: the data drives, plus one when parity is half the set. Returns set_size, sets,
    parity, data, write_quorum, drives_lost_per_set (one node down), survives_node_loss and
    min_parity_to_survive (None when no parity can).
    """
    try:
        nodes, drives = int(nodes), int(drives_per_node)
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError(
            f"minio_layout: nodes and drives must be numbers, got {nodes!r}, {drives_per_node!r}"
        ) from exc
    if nodes < 1 or drives < 1:
        raise AnsibleFilterError(f"minio_layout: need at least one node and one drive, got {nodes} x {drives}")
    total = nodes * drives
    sizes = [s for s in range(2, 17) if total % s == 0 and (s % nodes == 0 or nodes % s == 0)]
    set_size = max(sizes) if sizes else total if total == 1 else None
    if set_size is None:
        raise AnsibleFilterError(f"minio_layout: {nodes} x {drives} drives cannot form erasure sets of 2-16 drives")
    match = re.fullmatch(r"\s*EC:(\d+)\s*", storage_class or "")
    if storage_class and not match:
        raise AnsibleFilterError(f"minio_layout: storage class must look like EC:2, got {storage_class!r}")
    parity = int(match.group(1)) if match else _default_parity(set_size)
    if parity > set_size // 2:
        raise AnsibleFilterError(f"minio_layout: parity EC:{parity} exceeds half of the {set_size}-drive set")

    def write_quorum(p):
        return set_size - p + (1 if p == set_size - p else 0)

    lost = set_size // nodes if set_size >= nodes else 1
    survives = nodes > 1 and set_size - lost >= write_quorum(parity)
    fixes = [p for p in range(parity, set_size // 2 + 1) if set_size - lost >= write_quorum(p)]
    return {
        "nodes": nodes,
        "drives_per_node": drives,
        "set_size": set_size,
        "sets": total // set_size,
        "parity": parity,
        "data": set_size - parity,
        "write_quorum": write_quorum(parity),
        "drives_lost_per_set": lost,
        "survives_node_loss": survives,
        "min_parity_to_survive": fixes[0] if nodes > 1 and fixes else None,
    }


def vip_problems(vip, node_networks):
    """What keeps an address from serving as the VIP of nodes given as {node: "address/prefix"}.

    The VIP must be a usable host address of every node's network and no node's own address.
    """
    if not isinstance(node_networks, dict) or not node_networks:
        raise AnsibleFilterError(f"vip_problems: expected {{node: 'address/prefix'}}, got {node_networks!r}")
    try:
        address = ipaddress.ip_address(str(vip))
    except ValueError:
        return [f"the VIP {vip!r} is not an IP address"]
    problems = []
    for node, network_text in node_networks.items():
        try:
            if "/" not in str(network_text):
                raise ValueError(network_text)
            interface = ipaddress.ip_interface(str(network_text))
        except ValueError:
            problems.append(f"{node}: {network_text!r} is not address/prefix")
            continue
        network = interface.network
        if address == interface.ip:
            problems.append(f"the VIP {vip} is {node}'s own address")
        elif address not in network:
            problems.append(f"the VIP {vip} is outside {node}'s network {network}")
        elif network.num_addresses > 2 and address in (network.network_address, network.broadcast_address):
            problems.append(f"the VIP {vip} is the network or broadcast address of {network}")
    return problems


def scrape_config(job):
    """A Prometheus scrape_config for a job given as {name, hosts, port, path?, scheme?, params?, authorization?,
    tls_config?}.

    One static target per host (host:port), each labelled with its inventory name as `host`, so
    that an alert can be matched to the machine it concerns whatever the job's port.
    """
    if not isinstance(job, dict) or not {"name", "hosts", "port"} <= set(job):
        raise AnsibleFilterError(f"scrape_config: expected {{name, hosts, port, path?}}, got {job!r}")
    hosts = job["hosts"]
    if isinstance(hosts, str) or not isinstance(hosts, list) or not hosts:
        raise AnsibleFilterError(f"scrape_config: job {job['name']!r} needs a non-empty list of hosts, got {hosts!r}")
    try:
        port = int(job["port"])
    except (TypeError, ValueError):
        port = 0
    if not 1 <= port <= 65535:
        raise AnsibleFilterError(f"scrape_config: job {job['name']!r} has port {job['port']!r}, not 1-65535")
    config = {
        "job_name": str(job["name"]),
        "metrics_path": job.get("path", "/metrics"),
        "static_configs": [{"targets": [f"{host}:{port}"], "labels": {"host": str(host)}} for host in hosts],
    }
    for optional in ("scheme", "params", "authorization", "tls_config"):
        if job.get(optional):
            config[optional] = job[optional]
    return config


def minio_prometheus_token(access_key, secret_key, expires_at):
    """The bearer token MinIO's metrics endpoints accept: a JWT signed HS512 with the account's
    secret key, subject its access key, issuer "prometheus" (what `mc admin prometheus generate`
    makes). expires_at (Unix seconds) is given, so the same inputs give the same token.
    """
    for name, value in (("access_key", access_key), ("secret_key", secret_key)):
        if not isinstance(value, str) or not value:
            raise AnsibleFilterError(f"minio_prometheus_token: {name} must be a non-empty string")
    if isinstance(expires_at, bool) or not isinstance(expires_at, int) or expires_at <= 0:
        raise AnsibleFilterError(f"minio_prometheus_token: expires_at must be Unix seconds, got {expires_at!r}")

    def part(data):
        raw = data if isinstance(data, bytes) else json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=")

    signing_input = (
        part({"alg": "HS512", "typ": "JWT"}) + b"." + part({"exp": expires_at, "sub": access_key, "iss": "prometheus"})
    )
    signature = hmac.new(secret_key.encode(), signing_input, hashlib.sha512).digest()
    return (signing_input + b"." + part(signature)).decode()


def minio_bucket_policy(buckets):
    """An IAM policy document that gives full object access to these buckets and nothing else: their
    listing and location, and every object operation (multipart uploads included)."""
    if isinstance(buckets, str) or not isinstance(buckets, list) or not buckets:
        raise AnsibleFilterError(f"minio_bucket_policy: expected a non-empty list of buckets, got {buckets!r}")
    arns = [f"arn:aws:s3:::{bucket}" for bucket in buckets]
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
                "Resource": arns,
            },
            {
                "Effect": "Allow",
                "Action": [
                    "s3:AbortMultipartUpload",
                    "s3:DeleteObject",
                    "s3:GetObject",
                    "s3:ListMultipartUploadParts",
                    "s3:PutObject",
                ],
                "Resource": [f"{arn}/*" for arn in arns],
            },
        ],
    }


def minio_policy_canonical(policy):
    """A policy document with its statements, actions and resources in a fixed order: MinIO
    returns a stored policy's lists reordered, so documents are compared in this form."""
    if not isinstance(policy, dict):
        raise AnsibleFilterError(f"minio_policy_canonical: expected a policy document, got {policy!r}")

    def listed(value):
        return sorted(value) if isinstance(value, list) else [value]

    statements = [
        {key: listed(value) if key in ("Action", "Resource") else value for key, value in statement.items()}
        for statement in policy.get("Statement", [])
    ]
    return {**policy, "Statement": sorted(statements, key=lambda statement: repr(sorted(statement.items())))}


def ipv4_source_problems(sources):
    """Why entries of a firewall source list are not IPv4 addresses or networks ("10.0.0.0/8").

    A network written with host bits set (10.0.0.5/8) is refused: it reads as a typo.
    """
    if not isinstance(sources, list):
        return [f"expected a list of IPv4 addresses or networks, got {sources!r}"]
    problems = []
    for source in sources:
        try:
            ipaddress.IPv4Network(str(source), strict=True)
        except ValueError as error:
            problems.append(f"{source!r}: {error}")
    return problems


def ipv4_covered(address, sources):
    """Whether an IPv4 address falls in one of the addresses or networks of sources."""
    try:
        ip = ipaddress.IPv4Address(str(address))
    except ValueError:
        return False
    return any(ip in ipaddress.IPv4Network(str(source), strict=False) for source in sources)


def _collapsed(networks):
    return [str(network) for network in ipaddress.collapse_addresses(networks)]


def ipv4_source_sets(sets):
    """{name: [IPv4 addresses or networks]} in the form nft_source_sets reads a loaded ruleset:
    each list collapsed to the fewest networks (as nft merges adjacent elements), in order."""
    return {
        name: _collapsed(ipaddress.IPv4Network(str(source)) for source in sources) for name, sources in sets.items()
    }


def nft_source_sets(ruleset):
    """The IPv4 sets of an `nft --json list table` answer as {name: [networks]}, collapsed like
    ipv4_source_sets: elements are addresses, prefixes or ranges (nft's auto-merge)."""
    if not isinstance(ruleset, dict) or not isinstance(ruleset.get("nftables"), list):
        raise AnsibleFilterError(f"nft_source_sets: expected the JSON of nft --json list table, got {ruleset!r}")
    sets = {}
    for item in ruleset["nftables"]:
        found = item.get("set") if isinstance(item, dict) else None
        if not found or found.get("type") != "ipv4_addr":
            continue
        networks = []
        for item_element in found.get("elem", []):
            element = item_element
            if isinstance(element, dict) and "elem" in element:  # an element with options
                element = element["elem"]["val"]
            if isinstance(element, dict) and "prefix" in element:
                networks.append(ipaddress.IPv4Network(f"{element['prefix']['addr']}/{element['prefix']['len']}"))
            elif isinstance(element, dict) and "range" in element:
                first, last = (ipaddress.IPv4Address(bound) for bound in element["range"])
                networks.extend(ipaddress.summarize_address_range(first, last))
            else:
                networks.append(ipaddress.IPv4Network(str(element)))
        sets[found["name"]] = _collapsed(networks)
    return sets


def _nft_items(answer):
    """(the items of `nft --json list chain`'s answer {rc, stdout, stderr}, None) or (None, why not)."""
    if answer.get("rc") != 0:
        return None, f"not loaded: {answer.get('stderr', '').strip() or 'nft failed'}"
    try:
        return json.loads(answer.get("stdout") or "{}").get("nftables", []), None
    except ValueError:
        return None, "unreadable"


def _firewall_policy(answer):
    """The input chain's policy from `nft --json list chain` ({rc, stdout}), or why it is unknown."""
    items, problem = _nft_items(answer)
    if problem:
        return problem
    policies = [item["chain"].get("policy") for item in items if isinstance(item, dict) and "chain" in item]
    return policies[0] if policies else "no input chain"


def _firewall_open_ports(answer, source_sets):
    """The TCP ports the input chain from `nft --json list chain` ({rc, stdout}) accepts from the
    named source sets ("@clients"), or None when the chain is not loaded or unreadable."""
    items, problem = _nft_items(answer)
    if problem:
        return None
    ports = set()
    for item in items:
        expressions = item.get("rule", {}).get("expr", []) if isinstance(item, dict) else []
        # each match: (its field, as {protocol, field}, and what it must equal)
        matches = [
            (expression["match"].get("left", {}).get("payload"), expression["match"].get("right"))
            for expression in expressions
            if "match" in expression
        ]
        sources = {right for payload, right in matches if (payload or {}).get("field") == "saddr"}
        if not sources & set(source_sets) or not any("accept" in expression for expression in expressions):
            continue
        port_matches = [right for payload, right in matches if payload == {"protocol": "tcp", "field": "dport"}]
        if not port_matches:
            # accepted whatever the port
            ports.update(range(1, 65536))
        for right in port_matches:
            for element in right.get("set", []) if isinstance(right, dict) else [right]:
                if isinstance(element, dict) and "range" in element:
                    ports.update(range(element["range"][0], element["range"][1] + 1))
                else:
                    ports.add(int(element))
    return ports


def security_audit_findings(report):
    """The security audit's findings and per-check counts from what playbooks/security_audit.yml
    gathered: {nodes: {host: {exposure, firewall, cluster_ports, mariadb_accounts, mariadb_any_host}},
    clients: {kafka, mariadb, tls, s3, web, sql, sql_bypass}} (see the playbook for each part's shape)."""
    findings, checks = [], {}

    def check(name, passed, where, detail=""):
        counts = checks.setdefault(name, {"passed": 0, "failed": 0})
        counts["passed" if passed else "failed"] += 1
        if not passed:
            findings.append({"check": name, "where": where, "detail": detail})

    for host, node in sorted(report.get("nodes", {}).items()):
        exposures = node.get("exposure") or []
        check(
            "secrets_not_exposed",
            not exposures,
            host,
            "; ".join(f"{item['secret']} in {item['check']} {item['where']}" for item in exposures),
        )
        policy = _firewall_policy(node.get("firewall") or {})
        check("firewall_refuses_by_default", policy == "drop", host, f"input policy: {policy}")
        # the cluster's own ports (the metastore among them: no client it serves can authenticate)
        open_ports = _firewall_open_ports(node.get("firewall") or {}, ["@clients", "@admins"])
        exposed = sorted(set(node.get("cluster_ports") or []) & (open_ports or set()))
        check(
            "cluster_ports_closed_to_clients",
            open_ports is not None and not exposed,
            host,
            "firewall not loaded" if open_ports is None else f"open to clients: {exposed}",
        )
        accounts = node.get("mariadb_accounts")
        if accounts is not None:
            check("mariadb_accounts_have_passwords", not accounts, host, ", ".join(accounts))
        any_host = node.get("mariadb_any_host")
        if any_host is not None:
            check("mariadb_accounts_limited_to_hosts", not any_host, host, ", ".join(any_host))

    clients = report.get("clients", {})
    for target, outcome in sorted(clients.get("kafka", {}).items()):
        # only a refusal passes: a probe error proves nothing
        check("kafka_refuses_anonymous", outcome.startswith("refused"), target, outcome)
    for target, outcomes in sorted(clients.get("mariadb", {}).items()):
        for user, outcome in sorted(outcomes.items()):
            check("mariadb_refuses_empty_password", outcome != "accepted", target, f"{user}: {outcome}")
    for url, status in sorted(clients.get("s3", {}).items()):
        check("s3_refuses_anonymous", status == 403, url, f"HTTP {status}")
    for url, status in sorted(clients.get("web", {}).items()):
        check("web_ui_asks_for_login", status == 401, url, f"HTTP {status}")
    sql = clients.get("sql")
    if sql is not None:
        refused = sql.get("rc") != 0 and re.search(
            r"Peer indicated failure|Error validating the login", sql.get("output", "")
        )
        check(
            "sql_refuses_without_password",
            bool(refused),
            sql.get("endpoint", "sql"),
            "" if refused else f"rc {sql.get('rc')}: {sql.get('output', '')[-200:]}",
        )
    for attempt in clients.get("sql_bypass") or []:
        # a bypass attempt passes only when it was refused for the reason the catalogue names
        check(
            "sql_bypass_refused",
            attempt["as_expected"],
            f"{attempt['endpoint']} as {attempt['user']}",
            f"{attempt['class']}: {attempt['sql']}: " + ("it ran" if attempt["ok"] else attempt["error"][-200:]),
        )
    for target, version in sorted(clients.get("tls", {}).items()):
        speaks_tls = version.startswith("TLSv1.2") or version.startswith("TLSv1.3")
        check("client_endpoint_speaks_tls", speaks_tls, target, version)
        if speaks_tls:
            # a certificate that is expired, for another name or from an unknown CA protects nothing
            check("client_certificate_valid", " unverified" not in version, target, version)
    return {"findings": findings, "checks": checks}


def kafka_check_rates(rounds):
    """Produce and consume rates of validation/kafka_check.py runs (each a list of its checks):
    {produce, consume: [msg/s per round], produce_median, consume_median, all_passed}."""
    produce, consume, passed = [], [], True
    for checks in rounds:
        by_name = {check["name"]: check for check in checks}
        passed = passed and all(check["passed"] for check in checks)
        if "produce_acks_all" not in by_name or "consume_all" not in by_name:
            raise AnsibleFilterError(f"a Kafka check round did not get through: {[c['name'] for c in checks]}")
        produce.append(by_name["produce_acks_all"]["figure"])
        rate = re.search(r"(\d+) msg/s", by_name["consume_all"].get("detail") or "")
        consume.append(int(rate.group(1)) if rate else 0)

    return {
        "produce": produce,
        "consume": consume,
        "produce_median": _median(produce),
        "consume_median": _median(consume),
        "all_passed": passed,
    }


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def _seconds(delta):
    """Seconds of an Ansible command's delta ("H:MM:SS.ffffff")."""
    hours, minutes, seconds = delta.split(":")
    return round(int(hours) * 3600 + int(minutes) * 60 + float(seconds), 3)


def beeline_timings(sessions, queries):
    """Query and session times of beeline sessions (the results of a command loop over
    [round, endpoint] items, each session running `queries` statements): per endpoint
    {query_seconds: [beeline's "(X seconds)" figures], session_seconds: [wall time], and medians}."""
    timings = {}
    for session in sessions:
        endpoint = session["item"][1]
        output = session.get("stdout", "") + session.get("stderr", "")
        figures = [float(value) for value in re.findall(r"rows? selected \((\d+(?:\.\d+)?) seconds\)", output)]
        if session.get("rc") != 0 or len(figures) != queries:
            raise AnsibleFilterError(
                f"a beeline session through {endpoint} did not run its {queries} queries (rc {session.get('rc')}, "
                f"{len(figures)} timed): {output[-500:]}"
            )
        entry = timings.setdefault(endpoint, {"query_seconds": [], "session_seconds": []})
        entry["query_seconds"].extend(figures)
        entry["session_seconds"].append(_seconds(session["delta"]))
    for entry in timings.values():
        entry["query_seconds_median"] = round(_median(entry["query_seconds"]), 3)
        entry["session_seconds_median"] = round(_median(entry["session_seconds"]), 3)
    return timings


class FilterModule:
    """datalake_fb.platform filters."""

    def filters(self):
        return {
            "to_megabytes": to_megabytes,
            "rewrite_url": rewrite_url,
            "artifact_plan": artifact_plan,
            "iceberg_maintenance_request": iceberg_maintenance_request,
            "galera_node_state": galera_node_state,
            "galera_plan": galera_plan,
            "minio_layout": minio_layout,
            "vip_problems": vip_problems,
            "scrape_config": scrape_config,
            "minio_prometheus_token": minio_prometheus_token,
            "minio_bucket_policy": minio_bucket_policy,
            "minio_policy_canonical": minio_policy_canonical,
            "ipv4_source_problems": ipv4_source_problems,
            "ipv4_covered": ipv4_covered,
            "ipv4_source_sets": ipv4_source_sets,
            "nft_source_sets": nft_source_sets,
            "security_audit_findings": security_audit_findings,
            "kafka_check_rates": kafka_check_rates,
            "beeline_timings": beeline_timings,
        }
