#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: sql_users_file
short_description: Write the SQL endpoint's users file (PBKDF2-HMAC-SHA256 password hashes)
version_added: 1.0.0
description:
  - Writes the file the Spark Thrift (SQL) server's authenticator reads (the C(fb.datalake.sql.PasswdFileAuthenticator)
    of tools/sql-security, C(hive.server2.authentication=CUSTOM)) - one C(user:iterations:salt:hash) line per user,
    salt and hash in base64, the hash PBKDF2-HMAC-SHA256 of the password.
  - A user whose line already verifies against the given password keeps it, so a re-run with the
    same passwords changes nothing; a new user or a changed password gets a fresh random salt.
    Users no longer listed are removed from the file.
  - Passwords are never returned or logged.
author: DataLake FB platform engineers
options:
  path:
    description: The users file.
    type: path
    required: true
  users:
    description: Every user of the SQL endpoint.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: The user name (letters, digits, C(_ . @ -); no C(:) or spaces).
        type: str
        required: true
      password:
        description: The password (not empty).
        type: str
        required: true
        no_log: true
  iterations:
    description:
      - PBKDF2 iterations of new hashes. The authenticator spends as many on an unknown user name
        (100000), so keep this value and a login attempt takes the same time whether or not the user exists.
    type: int
    default: 100000
extends_documentation_fragment:
  - ansible.builtin.files
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Write the SQL endpoint's users
  datalake_fb.platform.sql_users_file:
    path: /etc/spark/sql-users
    users:
      - {name: dlfb_admin, password: "{{ vault_sql_admin_password }}"}
      - {name: analyst_north, password: "{{ vault_analyst_north_password }}"}
    owner: root
    group: spark
    mode: "0640"
"""

RETURN = r"""
users:
  description: The users in the file, in order.
  returned: always
  type: list
  elements: str
  sample: [dlfb_admin, analyst_north]
rehashed:
  description: Users whose line was written anew (new user or changed password).
  returned: always
  type: list
  elements: str
removed:
  description: Users that were in the file and are no longer listed.
  returned: always
  type: list
  elements: str
"""

import base64
import hashlib
import hmac
import os
import re
import tempfile

from ansible.module_utils.basic import AnsibleModule

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]{0,63}$")
HEADER = "# SQL endpoint users: user:iterations:salt:hash (PBKDF2-HMAC-SHA256, base64). Written by Ansible.\n"
SALT_BYTES = 16
HASH_BYTES = 32
MIN_ITERATIONS = 10000


def pbkdf2(password, salt, iterations, length=HASH_BYTES):
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, length)


def parse(text):
    """{user: (iterations, salt, hash)} of the well-formed lines of a users file."""
    entries = {}
    for line in text.splitlines():
        fields = line.strip().split(":")
        if line.startswith("#") or len(fields) != 4:
            continue
        try:
            entries[fields[0]] = (int(fields[1]), base64.b64decode(fields[2]), base64.b64decode(fields[3]))
        except ValueError:
            continue
    return entries


def verifies(entry, password):
    iterations, salt, digest = entry
    return hmac.compare_digest(pbkdf2(password, salt, iterations, len(digest)), digest)


def problems(users, iterations):
    found = []
    names = [user["name"] for user in users]
    for name in names:
        if not NAME.match(name):
            found.append(f"user name {name!r} must be 1-64 of letters, digits, _ . @ - (starting with a letter or _)")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        found.append(f"users listed twice: {', '.join(duplicates)}")
    empty = [user["name"] for user in users if not user["password"]]
    if empty:
        found.append(f"users with an empty password: {', '.join(empty)}")
    if not users:
        found.append("no users: the SQL endpoint would let nobody in")
    if iterations < MIN_ITERATIONS:
        found.append(f"iterations must be at least {MIN_ITERATIONS}, got {iterations}")
    return found


def render(users, existing, iterations):
    """The file's content, and the users whose line is new."""
    lines, rehashed = [HEADER], []
    for user in users:
        entry = existing.get(user["name"])
        if entry is None or not verifies(entry, user["password"]):
            salt = os.urandom(SALT_BYTES)
            entry = (iterations, salt, pbkdf2(user["password"], salt, iterations))
            rehashed.append(user["name"])
        count, salt, digest = entry
        lines.append(f"{user['name']}:{count}:{base64.b64encode(salt).decode()}:{base64.b64encode(digest).decode()}\n")
    return "".join(lines), rehashed


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "users": {
                "type": "list",
                "elements": "dict",
                "required": True,
                "options": {
                    "name": {"type": "str", "required": True},
                    "password": {"type": "str", "required": True, "no_log": True},
                },
            },
            "iterations": {"type": "int", "default": 100000},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path, users, iterations = module.params["path"], module.params["users"], module.params["iterations"]
    found = problems(users, iterations)
    if found:
        module.fail_json(msg="sql_users_file: " + "; ".join(found))

    current = ""
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                current = handle.read()
        except OSError as error:
            module.fail_json(msg=f"sql_users_file: cannot read {path}: {error}")
    existing = parse(current)
    content, rehashed = render(users, existing, iterations)
    result = {
        "changed": content != current,
        "users": [user["name"] for user in users],
        "rehashed": rehashed,
        "removed": sorted(set(existing) - {user["name"] for user in users}),
    }
    if result["changed"] and not module.check_mode:
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            module.fail_json(msg=f"sql_users_file: the directory {directory} does not exist")
        descriptor, scratch = tempfile.mkstemp(dir=directory, prefix=".sql-users.")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        module.atomic_move(scratch, path)
    if os.path.exists(path) or not module.check_mode:
        file_args = module.load_file_common_arguments(module.params)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
