#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: secret_exposure_info
short_description: Find where a node exposes its secrets - readable files, logs, the journal, command lines
version_added: 1.2.0
description:
  - Looks for the given secret values (passwords, keys) where a user other than the services could read them
    (the security audit, T6.5.2) - a file under O(config_paths) that holds a secret and is readable by every user;
    any file under O(log_paths); the systemd journal; the command line of any process (C(/proc/*/cmdline) is
    readable by every user, unlike a process's environment).
  - The values are only compared, never returned or logged; a finding names the secret by its key.
  - Values shorter than 8 characters are not searched (they would match by chance) and are counted in RV(skipped).
author: DataLake FB platform engineers
options:
  secrets:
    description: Secret name => value.
    type: dict
    required: true
  config_paths:
    description:
      - Files or directories (searched recursively) whose files must not be world-readable if they hold a secret.
    type: list
    elements: path
    default: []
  log_paths:
    description: Files or directories (searched recursively) whose files must hold no secret at all.
    type: list
    elements: path
    default: []
  journal:
    description: Search the whole systemd journal (C(journalctl --output=cat)).
    type: bool
    default: true
  processes:
    description: Search every process's command line.
    type: bool
    default: true
  max_file_bytes:
    description: Bytes read at most from each file (the start of larger files).
    type: int
    default: 67108864
  proc_root:
    description: Where the process table is mounted (tests use a directory of their own).
    type: path
    default: /proc
extends_documentation_fragment:
  - datalake_fb.platform.info_module
"""

EXAMPLES = r"""
- name: Look for the cluster's secrets in files, logs, the journal and command lines
  datalake_fb.platform.secret_exposure_info:
    secrets:
      hive_metastore_db_password: "{{ hive_metastore_db_password }}"
      spark_authenticate_secret: "{{ spark_authenticate_secret }}"
    config_paths: [/etc/spark, /etc/hive]
    log_paths: [/var/log, /opt/spark/logs]
  register: audit_exposure
  no_log: true
"""

RETURN = r"""
findings:
  description:
    - Each exposure - C(check) (world_readable_file, log_file, journal, process), C(where), C(secret) (its name).
  returned: always
  type: list
  elements: dict
  sample: [{check: world_readable_file, where: /etc/spark/spark-defaults.conf, secret: spark_authenticate_secret}]
scanned:
  description: What was searched - files, bytes, journal bytes, processes.
  returned: always
  type: dict
skipped:
  description: Names of the secrets not searched for (shorter than 8 characters).
  returned: always
  type: list
  elements: str
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule

MIN_SECRET_LENGTH = 8
CHUNK = 1 << 20


def files_under(paths):
    """Regular files of the given files and directories (recursively), each once, symlinks not followed."""
    seen = set()
    for path in paths:
        if os.path.isfile(path) and not os.path.islink(path):
            candidates = [path]
        else:
            candidates = (os.path.join(directory, name) for directory, _, names in os.walk(path) for name in names)
        for candidate in candidates:
            if candidate not in seen and os.path.isfile(candidate) and not os.path.islink(candidate):
                seen.add(candidate)
                yield candidate


def secrets_in_stream(read, needles, limit):
    """Names of the needles ({name: bytes}) found in what read(size) returns, up to limit bytes;
    chunks overlap so that a value split between two reads is found."""
    overlap = max((len(value) for value in needles.values()), default=1) - 1
    found, tail, total = set(), b"", 0
    while total < limit:
        chunk = read(min(CHUNK, limit - total))
        if not chunk:
            break
        total += len(chunk)
        window = tail + chunk
        found.update(name for name, value in needles.items() if value in window)
        tail = window[-overlap:] if overlap else b""
    return found, total


def scan_file(path, needles, limit):
    try:
        with open(path, "rb") as handle:
            return secrets_in_stream(handle.read, needles, limit)
    except OSError:
        return set(), 0


def scan(params, run_journal):
    needles = {
        name: str(value).encode("utf-8")
        for name, value in params["secrets"].items()
        if value is not None and len(str(value)) >= MIN_SECRET_LENGTH
    }
    skipped = sorted(set(params["secrets"]) - set(needles))
    findings, scanned = [], {"files": 0, "bytes": 0, "journal_bytes": 0, "processes": 0}
    if not needles:
        return findings, scanned, skipped
    limit = params["max_file_bytes"]

    for path in files_under(params["config_paths"]):
        found, size = scan_file(path, needles, limit)
        scanned["files"] += 1
        scanned["bytes"] += size
        if found and os.stat(path).st_mode & stat.S_IROTH:
            findings.extend({"check": "world_readable_file", "where": path, "secret": name} for name in sorted(found))

    for path in files_under(params["log_paths"]):
        found, size = scan_file(path, needles, limit)
        scanned["files"] += 1
        scanned["bytes"] += size
        findings.extend({"check": "log_file", "where": path, "secret": name} for name in sorted(found))

    if params["journal"]:
        journal = run_journal()
        scanned["journal_bytes"] = len(journal)
        findings.extend(
            {"check": "journal", "where": "journalctl", "secret": name}
            for name, value in sorted(needles.items())
            if value in journal
        )

    if params["processes"]:
        proc_root = params["proc_root"]
        for pid in sorted((entry for entry in os.listdir(proc_root) if entry.isdigit()), key=int):
            try:
                with open(os.path.join(proc_root, pid, "cmdline"), "rb") as handle:
                    cmdline = handle.read()
            except OSError:  # the process ended meanwhile
                continue
            scanned["processes"] += 1
            findings.extend(
                {"check": "process", "where": f"pid {pid}", "secret": name}
                for name, value in sorted(needles.items())
                if value in cmdline
            )
    return findings, scanned, skipped


def main():
    module = AnsibleModule(
        argument_spec={
            "secrets": {"type": "dict", "required": True, "no_log": True},
            "config_paths": {"type": "list", "elements": "path", "default": []},
            "log_paths": {"type": "list", "elements": "path", "default": []},
            "journal": {"type": "bool", "default": True},
            "processes": {"type": "bool", "default": True},
            "max_file_bytes": {"type": "int", "default": 64 << 20},
            "proc_root": {"type": "path", "default": "/proc"},
        },
        supports_check_mode=True,
    )
    if module.params["max_file_bytes"] < 1:
        module.fail_json(
            msg=f"secret_exposure_info: max_file_bytes must be 1 or more, got {module.params['max_file_bytes']}"
        )
    missing = [path for path in module.params["config_paths"] + module.params["log_paths"] if not os.path.exists(path)]

    def run_journal():
        rc, out, err = module.run_command(["journalctl", "--output=cat", "--no-pager", "--quiet"], encoding=None)
        if rc != 0:
            module.fail_json(msg=f"secret_exposure_info: journalctl failed ({rc}): {err!r}")
        return out

    findings, scanned, skipped = scan(module.params, run_journal)
    scanned["missing_paths"] = missing
    module.exit_json(changed=False, findings=findings, scanned=scanned, skipped=skipped)


if __name__ == "__main__":
    main()
