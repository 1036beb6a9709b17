#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: password_file
short_description: Write a users file of salted password hashes (the SQL endpoint's, Nginx's basic auth)
version_added: 1.0.0
description:
  - With I(scheme=pbkdf2_sha256), writes the file the Spark Thrift (SQL) server's authenticator reads (the
    C(fb.datalake.sql.PasswdFileAuthenticator) of tools/sql-security, C(hive.server2.authentication=CUSTOM)) - one
    C(user:iterations:salt:hash) line per user, salt and hash in base64, the hash PBKDF2-HMAC-SHA256 of the password.
  - With I(scheme=sha512_crypt), writes an Nginx C(auth_basic_user_file) - one C(user:$6$salt$hash) line per user
    (SHA-512 crypt, which Nginx checks with the C library's crypt()).
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
  scheme:
    description: The hash scheme and line format.
    type: str
    choices: [pbkdf2_sha256, sha512_crypt]
    default: pbkdf2_sha256
  iterations:
    description:
      - PBKDF2 iterations of new hashes (scheme pbkdf2_sha256). The authenticator spends as many on an unknown user name
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
  datalake_fb.platform.password_file:
    path: /etc/spark/sql-users
    users:
      - {name: dlfb_admin, password: "{{ vault_sql_admin_password }}"}
      - {name: analyst_north, password: "{{ vault_analyst_north_password }}"}
    owner: root
    group: spark
    mode: "0640"

- name: Write the web UIs' basic-auth users
  datalake_fb.platform.password_file:
    path: /etc/nginx/datalake-ui.htpasswd
    scheme: sha512_crypt
    users:
      - {name: dlfb_ops, password: "{{ vault_ui_password }}"}
    owner: root
    group: www-data
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
import importlib
import os
import re
import secrets
import tempfile
import warnings

from ansible.module_utils.basic import AnsibleModule

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.@-]{0,63}$")
HEADERS = {
    "pbkdf2_sha256": "# SQL endpoint users: user:iterations:salt:hash (PBKDF2-HMAC-SHA256, base64). By Ansible.\n",
    "sha512_crypt": "# Basic-auth users: user:$6$salt$hash (SHA-512 crypt). Written by Ansible.\n",
}
SALT_BYTES = 16
HASH_BYTES = 32
MIN_ITERATIONS = 10000
SHA512_CRYPT = re.compile(r"^\$6\$(rounds=[0-9]+\$)?[./0-9A-Za-z]{1,16}\$[./0-9A-Za-z]{86}$")
CRYPT_SALT_CHARS = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def pbkdf2(password, salt, iterations, length=HASH_BYTES):
    return hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations, length)


def sha512_crypt(password, setting):
    """crypt(3) with a $6$ setting: the C library's, which Nginx checks against. Python's crypt
    module is deprecated since 3.11 (the nodes' Python, Debian 12, still has it)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        crypt = importlib.import_module("crypt")
    return crypt.crypt(password, setting)


def parse(text, scheme="pbkdf2_sha256"):
    """{user: entry} of the well-formed lines of a users file: (iterations, salt, hash) for
    pbkdf2_sha256, the $6$ string for sha512_crypt."""
    entries = {}
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        if scheme == "sha512_crypt":
            name, _, stored = line.strip().partition(":")
            if SHA512_CRYPT.match(stored):
                entries[name] = stored
            continue
        fields = line.strip().split(":")
        if len(fields) != 4:
            continue
        try:
            entries[fields[0]] = (int(fields[1]), base64.b64decode(fields[2]), base64.b64decode(fields[3]))
        except ValueError:
            continue
    return entries


def verifies(entry, password, scheme="pbkdf2_sha256"):
    if scheme == "sha512_crypt":
        return hmac.compare_digest(sha512_crypt(password, entry), entry)
    iterations, salt, digest = entry
    return hmac.compare_digest(pbkdf2(password, salt, iterations, len(digest)), digest)


def new_entry(password, scheme, iterations):
    """A fresh random salt and the password's hash under it."""
    if scheme == "sha512_crypt":
        salt = "".join(secrets.choice(CRYPT_SALT_CHARS) for _ in range(16))
        return sha512_crypt(password, f"$6${salt}$")
    salt = os.urandom(SALT_BYTES)
    return (iterations, salt, pbkdf2(password, salt, iterations))


def line(name, entry, scheme):
    if scheme == "sha512_crypt":
        return f"{name}:{entry}\n"
    count, salt, digest = entry
    return f"{name}:{count}:{base64.b64encode(salt).decode()}:{base64.b64encode(digest).decode()}\n"


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
        found.append("no users: nobody could log in")
    if iterations < MIN_ITERATIONS:
        found.append(f"iterations must be at least {MIN_ITERATIONS}, got {iterations}")
    return found


def render(users, existing, iterations, scheme="pbkdf2_sha256"):
    """The file's content, and the users whose line is new."""
    lines, rehashed = [HEADERS[scheme]], []
    for user in users:
        entry = existing.get(user["name"])
        if entry is None or not verifies(entry, user["password"], scheme):
            entry = new_entry(user["password"], scheme, iterations)
            rehashed.append(user["name"])
        lines.append(line(user["name"], entry, scheme))
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
            "scheme": {"type": "str", "default": "pbkdf2_sha256", "choices": ["pbkdf2_sha256", "sha512_crypt"]},
            "iterations": {"type": "int", "default": 100000},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path, users, iterations = module.params["path"], module.params["users"], module.params["iterations"]
    scheme = module.params["scheme"]
    found = problems(users, iterations)
    if found:
        module.fail_json(msg="password_file: " + "; ".join(found))

    current = ""
    if os.path.exists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                current = handle.read()
        except OSError as error:
            module.fail_json(msg=f"password_file: cannot read {path}: {error}")
    existing = parse(current, scheme)
    content, rehashed = render(users, existing, iterations, scheme)
    result = {
        "changed": content != current,
        "users": [user["name"] for user in users],
        "rehashed": rehashed,
        "removed": sorted(set(existing) - {user["name"] for user in users}),
    }
    if result["changed"] and not module.check_mode:
        directory = os.path.dirname(path) or "."
        if not os.path.isdir(directory):
            module.fail_json(msg=f"password_file: the directory {directory} does not exist")
        descriptor, scratch = tempfile.mkstemp(dir=directory, prefix=".users.")
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(content)
        module.atomic_move(scratch, path)
    if os.path.exists(path) or not module.check_mode:
        file_args = module.load_file_common_arguments(module.params)
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
