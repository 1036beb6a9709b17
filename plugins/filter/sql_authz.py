# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""The SQL endpoint's authorization policy: the inventory's users, grants, protected tables,
secure views and column masks checked and turned into the JSON file the endpoint's extension
reads (tools/sql-security, AuthzPolicy)."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

NAME_PART = r"[A-Za-z_][A-Za-z0-9_]*"
NAME = re.compile(rf"^{NAME_PART}(\.{NAME_PART}){{1,2}}$")
MASK_TYPES = ("null", "hash", "partial")
SESSION_CATALOG = "spark_catalog"


def _error(message):
    raise AnsibleFilterError(f"sql_authz_policy: {message}")


class _Names:
    """Object names (catalog.namespace[.name]) as policy keys: the catalogs on the shared metastore
    name the same objects, so their keys leave the catalog out (AuthzPolicy's rule)."""

    def __init__(self, catalogs):
        self.catalogs = [c.lower() for c in catalogs]

    def parse(self, name, what, parts):
        if not isinstance(name, str) or not NAME.match(name) or name.count(".") + 1 != parts:
            shape = "catalog.namespace" if parts == 2 else "catalog.namespace.name"
            _error(f"{what} {name!r} is not a name of the form {shape} (letters, digits, _)")
        catalog = name.split(".")[0].lower()
        if catalog not in self.catalogs:
            _error(f"{what} {name!r}: unknown catalog {catalog!r} (known: {', '.join(self.catalogs)})")
        return ".".join(name.lower().split(".")[1:])

    def object_or_namespace(self, name, what):
        if isinstance(name, str) and name.count(".") == 1:
            return "namespace", self.parse(name, what, 2)
        return "object", self.parse(name, what, 3)


def _list(value, what):
    if value is None:
        return []
    if not isinstance(value, list):
        _error(f"{what} must be a list, got {value!r}")
    return value


def _users(users):
    known = {}
    for user in _list(users, "spark_sql_users"):
        if not isinstance(user, dict) or not isinstance(user.get("name"), str):
            _error(f"every SQL user needs a name, got {user!r}")
        groups = _list(user.get("groups"), f"groups of SQL user {user['name']}")
        known[user["name"].lower()] = {"admin": bool(user.get("admin", False)), "groups": [g.lower() for g in groups]}
    return known


def _grants(grants, users, names):
    """Each user's effective grants: their own and their groups'."""
    effective = {
        user: {"select_namespaces": set(), "select_objects": set(), "write_namespaces": set()} for user in users
    }
    groups = {group for user in users.values() for group in user["groups"]}
    for grant in _list(grants, "spark_sql_grants"):
        if not isinstance(grant, dict) or len({"user", "group"} & set(grant)) != 1:
            _error(f"a grant names one user or one group: {grant!r}")
        unknown = set(grant) - {"user", "group", "select", "write"}
        if unknown:
            _error(f"a grant has select and write lists only, not {sorted(unknown)}: {grant!r}")
        if "user" in grant:
            who = str(grant["user"]).lower()
            if who not in users:
                _error(f"a grant to unknown user {grant['user']!r} (not in spark_sql_users)")
            holders = [who]
        else:
            group = str(grant["group"]).lower()
            if group not in groups:
                _error(f"a grant to group {grant['group']!r}, which no user of spark_sql_users is in")
            holders = [u for u, info in users.items() if group in info["groups"]]
        for name in _list(grant.get("select"), "a grant's select"):
            kind, key = names.object_or_namespace(name, "the select grant on")
            for holder in holders:
                effective[holder]["select_namespaces" if kind == "namespace" else "select_objects"].add(key)
        for name in _list(grant.get("write"), "a grant's write"):
            key = names.parse(name, "the write grant on (a namespace)", 2)
            for holder in holders:
                effective[holder]["write_namespaces"].add(key)
    return effective


def _security_setting(key, patterns):
    return any(re.fullmatch(p, key, re.IGNORECASE) for p in patterns)


def _secure_views(secure_views, names):
    views = {}
    for view in _list(secure_views, "spark_sql_secure_views"):
        if not isinstance(view, dict) or "name" not in view:
            _error(f"a secure view is {{name: spark_catalog.namespace.view, reads: [protected tables]}}, got {view!r}")
        if str(view["name"]).split(".")[0].lower() != SESSION_CATALOG:
            _error(f"secure view {view['name']!r} must be a view of {SESSION_CATALOG} (where the extension sees views)")
        key = names.parse(view["name"], "secure view", 3)
        reads = _list(view.get("reads"), "reads")
        views[key] = [names.parse(t, f"a table secure view {view['name']} reads", 3) for t in reads]
    return views


def _protected(protected_tables, views, names, write_namespaces):
    protected = {}
    for table in _list(protected_tables, "spark_sql_protected_tables"):
        key = names.parse(table, "protected table", 3)
        readers = sorted(view for view, tables in views.items() if key in tables)
        if not readers:
            _error(
                f"protected table {table!r} has no secure view: name it in the reads of one of spark_sql_secure_views"
            )
        protected[key] = readers
    for view, tables in views.items():
        for table in tables:
            if table not in protected:
                _error(f"secure view {view!r} reads {table!r}, which is not in spark_sql_protected_tables")
    for key in list(protected) + list(views):
        if key.split(".")[0] in write_namespaces:
            _error(f"{key!r} is protected, but its namespace is granted for write: users could replace it")
    return protected


def _masks(column_masks, names, protected, write_namespaces):
    masks = {}
    for mask in _list(column_masks, "spark_sql_column_masks"):
        if not isinstance(mask, dict) or not {"table", "column", "mask"} <= set(mask):
            _error(f"a column mask is {{table, column, mask: null|hash|partial, show_last}}, got {mask!r}")
        where = f"{mask['table']}.{mask['column']}"
        table = names.parse(mask["table"], "masked table", 3)
        if mask["mask"] not in MASK_TYPES:
            _error(f"mask {mask['mask']!r} of {where} is not one of {', '.join(MASK_TYPES)}")
        if table.split(".")[0] in write_namespaces:
            _error(f"masked table {mask['table']!r} is in a namespace granted for write: users could copy it unmasked")
        if table in protected and not protected[table]:
            _error(f"mask on protected table {mask['table']!r}, which has no secure view")
        show_last = mask.get("show_last", 4)
        if not isinstance(show_last, int) or isinstance(show_last, bool) or not 0 <= show_last <= 16:
            _error(f"show_last of the mask on {where} must be 0 to 16, got {show_last!r}")
        if not re.fullmatch(NAME_PART, str(mask["column"])):
            _error(f"masked column {mask['column']!r} of {mask['table']} is not a column name")
        masks.setdefault(table, {})[str(mask["column"]).lower()] = {"type": mask["mask"], "show_last": show_last}
    return masks


def sql_authz_policy(
    users,
    grants=None,
    protected_tables=None,
    secure_views=None,
    column_masks=None,
    settable_keys=None,
    security_settings=None,
    session_keys=None,
    catalogs=(SESSION_CATALOG,),
    object_store_schemes=("s3a",),
    table_properties=None,
):
    """The policy (a dict, to_json'd into the endpoint's policy file); bad input is an error naming it."""
    names = _Names(catalogs)
    known_users = _users(users)
    effective = _grants(grants, known_users, names)
    write_namespaces = {ns for grant in effective.values() for ns in grant["write_namespaces"]}
    views = _secure_views(secure_views, names)
    protected = _protected(protected_tables, views, names, write_namespaces)
    masks = _masks(column_masks, names, protected, write_namespaces)
    security_settings = _list(security_settings, "spark_sql_security_settings")
    settable = [str(k).lower() for k in _list(settable_keys, "spark_sql_settable_keys")]
    for key in settable:
        if _security_setting(key, security_settings):
            _error(f"settable key {key!r} is a security setting of the SQL endpoint (spark_sql_security_settings)")
    return {
        "version": 1,
        "admins": sorted(u for u, info in known_users.items() if info["admin"]),
        "users": {u: {k: sorted(v) for k, v in grant.items()} for u, grant in sorted(effective.items())},
        "protected_tables": protected,
        "secure_views": sorted(views),
        "masks": masks,
        "settable_keys": sorted(settable),
        "security_settings": security_settings,
        "session_keys": [str(k).lower() for k in _list(session_keys, "session_keys")],
        "metastore_catalogs": names.catalogs,
        "object_store_schemes": [s.lower() for s in object_store_schemes],
        "table_properties": _list(table_properties, "spark_sql_table_properties"),
    }


def sql_bypass_attempts(catalogue, places):
    """The bypass catalogue (playbooks/files/sql_bypass_catalogue.yml) with its placeholders filled:
    [{class, as, sql, session, refused}]."""
    attempts = []
    for entry in _list(catalogue, "the bypass catalogue"):
        try:
            attempts.append(
                {
                    "class": entry["class"],
                    "as": entry.get("as", "analyst"),
                    "sql": entry["sql"].format_map(places),
                    "session": {k: str(v).format_map(places) for k, v in (entry.get("session") or {}).items()},
                    "refused": entry["refused"].format_map(places),
                }
            )
        except (KeyError, ValueError) as exc:
            raise AnsibleFilterError(f"sql_bypass_attempts: entry {entry!r}: {exc}") from exc
    return attempts


def sql_bypass_outcomes(runs, attempts):
    """What each attempt got, from the results of spark_sql runs looped over (endpoint, {as, login})
    pairs, each with that login's attempts in order: [{endpoint, user, class, sql, refused, ok,
    error, as_expected}] - as expected when it did not run and its error says the expected refusal."""
    outcomes = []
    for run in runs:
        endpoint, who = run["item"][0], run["item"][1]
        mine = [a for a in attempts if a["as"] == who["as"]]
        results = run.get("results") or []
        if len(results) != len(mine):
            outcomes.append(
                {
                    "endpoint": endpoint,
                    "user": who["login"].get("name"),
                    "class": "the catalogue's run",
                    "sql": "",
                    "refused": "",
                    "ok": False,
                    "error": run.get("msg", "no results"),
                    "as_expected": False,
                }
            )
            continue
        for attempt, result in zip(mine, results, strict=True):
            error = result.get("error") or ""
            outcomes.append(
                {
                    "endpoint": endpoint,
                    "user": who["login"].get("name"),
                    "class": attempt["class"],
                    "sql": attempt["sql"],
                    "refused": attempt["refused"],
                    "ok": result.get("ok", False),
                    "error": error[:400],
                    "as_expected": not result.get("ok", False) and attempt["refused"] in error,
                }
            )
    return outcomes


class FilterModule:
    """datalake_fb.platform filters of the SQL authorization policy."""

    def filters(self):
        return {
            "sql_authz_policy": sql_authz_policy,
            "sql_bypass_attempts": sql_bypass_attempts,
            "sql_bypass_outcomes": sql_bypass_outcomes,
        }
