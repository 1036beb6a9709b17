# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Filters shared by the datalake_fb.platform roles."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

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


class FilterModule:
    """datalake_fb.platform filters."""

    def filters(self):
        return {
            "to_megabytes": to_megabytes,
            "rewrite_url": rewrite_url,
            "artifact_plan": artifact_plan,
            "iceberg_maintenance_request": iceberg_maintenance_request,
        }
