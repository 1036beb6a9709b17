#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: backup_manifest
short_description: Write or verify the checksum manifest of a backup directory
version_added: 1.0.0
description:
  - A backup is one directory of a backup repository, named by its id (a UTC time stamp, so names
    sort by age), holding the backup's files and C(manifest.json) - each file's size and sha256 and
    what the backup holds.
  - O(state=written) checksums every file of the directory and writes the manifest; with O(keep) it
    then removes the oldest complete backups of the repository beyond that many (never the one
    just written, never a directory without a manifest).
  - O(state=verified) reads the manifest and checks every file it lists (present, same size, same
    sha256) and fails naming each missing or corrupt file; nothing is changed. playbooks/restore.yml
    runs it before it touches the cluster.
author: DataLake FB platform engineers
options:
  repository:
    description: Directory holding one sub-directory per backup.
    type: path
    required: true
  backup_id:
    description:
      - The backup's directory name. With O(state=verified), V(latest) picks the newest backup
        that has a manifest.
    type: str
    required: true
  state:
    description: Write the manifest of a finished backup, or verify one before a restore.
    type: str
    choices: [written, verified]
    default: verified
  info:
    description: What the backup holds (sources, counts, positions), stored in the manifest as C(info).
    type: dict
    default: {}
  keep:
    description: With O(state=written), how many complete backups to keep; 0 keeps them all.
    type: int
    default: 0
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Seal a backup
  datalake_fb.platform.backup_manifest:
    repository: /srv/backups/datalake
    backup_id: 20261130T141500Z
    state: written
    info: {mariadb_source: db1, buckets: [warehouse]}
    keep: 14
  delegate_to: localhost

- name: Check the newest backup before restoring it
  datalake_fb.platform.backup_manifest:
    repository: /srv/backups/datalake
    backup_id: latest
  delegate_to: localhost
  register: backup
"""

RETURN = r"""
backup_id:
  description: The backup's id (the newest one's for V(latest)).
  returned: always
  type: str
  sample: 20261130T141500Z
path:
  description: The backup's directory.
  returned: always
  type: str
manifest:
  description: The manifest - created (UTC), files (each with its size and sha256), bytes, info.
  returned: always
  type: dict
pruned:
  description: Backup directories removed by O(keep).
  returned: with state=written
  type: list
  elements: str
"""

import datetime
import hashlib
import json
import os
import shutil

from ansible.module_utils.basic import AnsibleModule

MANIFEST = "manifest.json"


class BackupError(Exception):
    """The backup cannot be used (the message says why)."""


def sha256_of(path, chunk=1 << 20):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(chunk), b""):
            digest.update(block)
    return digest.hexdigest()


def backup_files(directory):
    """Every regular file under the backup directory but the manifest, as sorted relative paths."""
    found = []
    for root, _dirs, files in os.walk(directory):
        for name in files:
            relative = os.path.relpath(os.path.join(root, name), directory)
            if relative != MANIFEST:
                found.append(relative)
    return sorted(found)


def build_manifest(directory, info, created):
    files = {}
    for relative in backup_files(directory):
        path = os.path.join(directory, relative)
        files[relative] = {"size": os.path.getsize(path), "sha256": sha256_of(path)}
    if not files:
        raise BackupError(f"{directory} holds no file: nothing to seal")
    return {
        "created": created,
        "files": files,
        "bytes": sum(entry["size"] for entry in files.values()),
        "info": info,
    }


def complete_backups(repository):
    """Ids of the repository's backups that have a manifest, oldest first."""
    if not os.path.isdir(repository):
        return []
    return sorted(name for name in os.listdir(repository) if os.path.isfile(os.path.join(repository, name, MANIFEST)))


def resolve_id(repository, backup_id):
    if backup_id != "latest":
        return backup_id
    backups = complete_backups(repository)
    if not backups:
        raise BackupError(f"no backup with a {MANIFEST} in {repository}")
    return backups[-1]


def verify(directory):
    """The manifest of a backup directory once every file it lists matches; BackupError otherwise."""
    manifest_path = os.path.join(directory, MANIFEST)
    if not os.path.isdir(directory):
        raise BackupError(f"backup {directory} does not exist")
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            manifest = json.load(handle)
        files = manifest["files"]
    except FileNotFoundError:
        raise BackupError(f"{manifest_path} is missing: the backup never finished") from None
    except (ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"{manifest_path} is not a backup manifest ({exc})") from None
    problems = []
    for relative, entry in sorted(files.items()):
        path = os.path.join(directory, relative)
        if not os.path.isfile(path):
            problems.append(f"{relative} is missing")
        elif os.path.getsize(path) != entry["size"]:
            problems.append(f"{relative} has {os.path.getsize(path)} bytes, the manifest says {entry['size']}")
        elif sha256_of(path) != entry["sha256"]:
            problems.append(f"{relative} does not match its sha256 (corrupt)")
    extra = sorted(set(backup_files(directory)) - set(files))
    problems.extend(f"{relative} is not in the manifest" for relative in extra)
    if problems:
        raise BackupError(f"backup {directory} cannot be trusted: " + "; ".join(problems))
    return manifest


def prune(repository, keep, current):
    """Remove the oldest complete backups beyond `keep` (0: none), never `current`."""
    if keep <= 0:
        return []
    older = [name for name in complete_backups(repository) if name != current]
    return older[: max(0, len(older) - (keep - 1))]


def main():
    module = AnsibleModule(
        argument_spec={
            "repository": {"type": "path", "required": True},
            "backup_id": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["written", "verified"], "default": "verified"},
            "info": {"type": "dict", "default": {}},
            "keep": {"type": "int", "default": 0},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["keep"] < 0:
        module.fail_json(msg=f"keep must be 0 (keep every backup) or more, got {params['keep']}")
    if "/" in params["backup_id"] or params["backup_id"] in ("", ".", ".."):
        module.fail_json(msg=f"backup_id must be a directory name, got {params['backup_id']!r}")
    try:
        if params["state"] == "verified":
            backup_id = resolve_id(params["repository"], params["backup_id"])
            directory = os.path.join(params["repository"], backup_id)
            module.exit_json(changed=False, backup_id=backup_id, path=directory, manifest=verify(directory))
        if params["backup_id"] == "latest":
            module.fail_json(msg="a backup being written needs its own id, not 'latest'")
        directory = os.path.join(params["repository"], params["backup_id"])
        if not os.path.isdir(directory):
            raise BackupError(f"backup {directory} does not exist")
        created = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        manifest = build_manifest(directory, params["info"], created)
    except BackupError as exc:
        module.fail_json(msg=str(exc))
    manifest_path = os.path.join(directory, MANIFEST)
    try:
        with open(manifest_path, encoding="utf-8") as handle:
            current = json.load(handle)
    except (OSError, ValueError):
        current = None
    # the same files and info as an existing manifest: nothing to write (its time stamp is kept)
    same = current is not None and {k: v for k, v in current.items() if k != "created"} == {
        k: v for k, v in manifest.items() if k != "created"
    }
    if same:
        manifest = current
    pruned = prune(params["repository"], params["keep"], params["backup_id"])
    if not module.check_mode:
        if not same:
            with open(manifest_path + ".tmp", "w", encoding="utf-8") as handle:
                json.dump(manifest, handle, indent=2, sort_keys=True)
            os.chmod(manifest_path + ".tmp", 0o600)
            os.replace(manifest_path + ".tmp", manifest_path)
        for name in pruned:
            shutil.rmtree(os.path.join(params["repository"], name))
    changed = not same or bool(pruned)
    module.exit_json(changed=changed, backup_id=params["backup_id"], path=directory, manifest=manifest, pruned=pruned)


if __name__ == "__main__":
    main()
