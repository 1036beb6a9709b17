"""The sql_authz_policy filter: the inventory's grants, protected tables, secure views and masks
as the endpoint's policy (keys without the catalog on the shared metastore, groups expanded),
and every bad input refused by name before anything is written."""

import re
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from ansible_collections.datalake_fb.platform.plugins.filter.datalake import security_audit_findings
from ansible_collections.datalake_fb.platform.plugins.filter.sql_authz import (
    sql_authz_policy,
    sql_bypass_attempts,
    sql_bypass_outcomes,
)

ROOT = Path(__file__).resolve().parents[3]
DEFAULTS = yaml.safe_load((ROOT / "roles/spark/defaults/main.yml").read_text())
USERS = [
    {"name": "dlfb_admin", "password": "x" * 12, "admin": True},
    {"name": "analyst_north", "password": "x" * 12, "groups": ["analysts"]},
    {"name": "Analyst_South", "password": "x" * 12, "groups": ["analysts"]},
]
VIEWS = [{"name": "spark_catalog.sales_secure.orders", "reads": ["lakehouse.sales.orders"]}]


def policy(**overrides):
    args = {
        "grants": [
            {"group": "analysts", "select": ["spark_catalog.sales_secure", "lakehouse.reference.departments"]},
            {"user": "analyst_north", "write": ["lakehouse.scratch_north"]},
        ],
        "protected_tables": ["lakehouse.sales.orders"],
        "secure_views": VIEWS,
        "column_masks": [{"table": "lakehouse.sales.orders", "column": "Customer", "mask": "partial", "show_last": 2}],
        "settable_keys": DEFAULTS["spark_sql_settable_keys"],
        "security_settings": DEFAULTS["spark_sql_security_settings"],
        "session_keys": ["spark.sql.hive.version"],
        "catalogs": ["spark_catalog", "lakehouse"],
    }
    args.update(overrides)
    return sql_authz_policy(USERS, **args)


def test_grants_are_expanded_per_user_and_keyed_without_the_catalog():
    result = policy()
    assert result["version"] == 1
    assert result["admins"] == ["dlfb_admin"]
    assert result["users"]["analyst_north"] == {
        "select_namespaces": ["sales_secure"],
        "select_objects": ["reference.departments"],
        "write_namespaces": ["scratch_north"],
    }
    # names are case-insensitive, as the metastore's
    assert result["users"]["analyst_south"]["write_namespaces"] == []
    assert result["users"]["dlfb_admin"]["select_namespaces"] == []
    assert result["protected_tables"] == {"sales.orders": ["sales_secure.orders"]}
    assert result["secure_views"] == ["sales_secure.orders"]
    assert result["masks"] == {"sales.orders": {"customer": {"type": "partial", "show_last": 2}}}
    assert result["metastore_catalogs"] == ["spark_catalog", "lakehouse"]


def test_the_default_security_settings_cover_what_reopens_the_disk_and_no_settable_key():
    patterns = DEFAULTS["spark_sql_security_settings"]
    for key in [
        "spark.sql.runSQLOnFiles",
        "spark.sql.variable.substitute",
        "spark.sql.catalog.x",
        "fs.s3a.impl",
        "spark.hadoop.fs.defaultFS",
        "spark.sql.legacy.setCommandRejectsSparkCoreConfs",
        "spark.redaction.regex",
        "spark.datalake.authz.policy",
        "spark.sql.extensions",
        "spark.authenticate.secret",
        "hive.exec.scratchdir",
    ]:
        assert any(re.fullmatch(p, key, re.IGNORECASE) for p in patterns), key
    for key in DEFAULTS["spark_sql_settable_keys"]:
        assert not any(re.fullmatch(p, key, re.IGNORECASE) for p in patterns), key


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"grants": [{"user": "mallory", "select": ["lakehouse.sales"]}]}, "grant to unknown user 'mallory'"),
        ({"grants": [{"group": "nobody", "select": ["lakehouse.sales"]}]}, "group 'nobody', which no user"),
        (
            {"grants": [{"user": "analyst_north", "select": ["lakehouse.sales.orders;DROP"]}]},
            "is not a name of the form",
        ),
        ({"grants": [{"user": "analyst_north", "select": ["lakehouse"]}]}, "is not a name of the form"),
        ({"grants": [{"user": "analyst_north", "select": ["elsewhere.sales.orders"]}]}, "unknown catalog 'elsewhere'"),
        ({"grants": [{"user": "analyst_north", "write": ["lakehouse.sales.orders"]}]}, "write grant on (a namespace)"),
        ({"grants": [{"user": "analyst_north", "group": "analysts"}]}, "names one user or one group"),
        ({"grants": [{"user": "analyst_north", "delete": ["lakehouse.x"]}]}, "select and write lists only"),
        ({"protected_tables": ["lakehouse.sales.order s"]}, "is not a name of the form"),
        (
            {"protected_tables": ["lakehouse.sales.orders", "lakehouse.hr.people"]},
            "'lakehouse.hr.people' has no secure view",
        ),
        ({"secure_views": []}, "has no secure view"),
        ({"secure_views": ["spark_catalog.sales_secure.orders"]}, "a secure view is {name"),
        (
            {"secure_views": [{"name": "lakehouse.sales_secure.orders", "reads": ["lakehouse.sales.orders"]}]},
            "must be a view of spark_catalog",
        ),
        (
            {"secure_views": [*VIEWS, {"name": "spark_catalog.s.v", "reads": ["lakehouse.hr.people"]}]},
            "not in spark_sql_protected_tables",
        ),
        (
            {"column_masks": [{"table": "lakehouse.sales.orders", "column": "c", "mask": "scramble"}]},
            "is not one of null",
        ),
        (
            {"column_masks": [{"table": "lakehouse.sales.orders", "column": "c", "mask": "partial", "show_last": 40}]},
            "must be 0 to 16",
        ),
        (
            {"column_masks": [{"table": "lakehouse.sales.orders", "column": "c; --", "mask": "null"}]},
            "not a column name",
        ),
        (
            {"column_masks": [{"table": "lakehouse.scratch_north.t", "column": "c", "mask": "null"}]},
            "granted for write: users could copy it unmasked",
        ),
        (
            {
                "protected_tables": ["lakehouse.scratch_north.t"],
                "secure_views": [{"name": "spark_catalog.v.v", "reads": ["lakehouse.scratch_north.t"]}],
            },
            "granted for write: users could replace it",
        ),
        (
            {"settable_keys": ["spark.sql.shuffle.partitions", "spark.sql.runSQLOnFiles"]},
            "'spark.sql.runsqlonfiles' is a security setting",
        ),
    ],
)
def test_bad_input_is_refused_by_name(overrides, message):
    with pytest.raises(AnsibleFilterError, match=re.escape(message)):
        policy(**overrides)


def test_a_mask_on_a_protected_table_needs_its_secure_view():
    # the protected table must be read by a secure view; without one the mask could never apply
    with pytest.raises(AnsibleFilterError, match="has no secure view"):
        policy(secure_views=[], column_masks=[{"table": "lakehouse.sales.orders", "column": "c", "mask": "hash"}])


CATALOGUE = [
    {"class": "path-based read", "sql": "SELECT * FROM text.`{conf}`", "refused": "may not read the path {conf}"},
    {"class": "settings", "session": {"set:hiveconf:x": "{conf}"}, "sql": "SELECT '${{x}}'", "refused": "changed x"},
    {"class": "disk", "as": "admin", "sql": "SELECT 1", "refused": "may not"},
]


def test_bypass_attempts_fill_the_catalogue():
    attempts = sql_bypass_attempts(CATALOGUE, {"conf": "/etc/spark/spark-defaults.conf"})
    assert attempts[0] == {
        "class": "path-based read",
        "as": "analyst",
        "sql": "SELECT * FROM text.`/etc/spark/spark-defaults.conf`",
        "session": {},
        "refused": "may not read the path /etc/spark/spark-defaults.conf",
    }
    assert attempts[1]["sql"] == "SELECT '${x}'" and attempts[1]["session"] == {
        "set:hiveconf:x": "/etc/spark/spark-defaults.conf"
    }
    assert attempts[2]["as"] == "admin"
    with pytest.raises(AnsibleFilterError, match="'conf'"):
        sql_bypass_attempts(CATALOGUE, {})


def test_bypass_outcomes_pass_only_refusals_for_the_named_reason():
    attempts = sql_bypass_attempts(CATALOGUE, {"conf": "/c"})
    analyst = {"as": "analyst", "login": {"name": "a", "password": "secret-password"}}
    admin = {"as": "admin", "login": {"name": "b", "password": "secret-password"}}
    runs = [
        {
            "item": ["vip:10001", analyst],
            "results": [
                {"sql": "x", "ok": False, "error": "user a may not read the path /c: path-based reads are refused"},
                {"sql": "y", "ok": False, "error": "TABLE_OR_VIEW_NOT_FOUND"},
            ],
        },
        {"item": ["vip:10001", admin], "results": [{"sql": "SELECT 1", "ok": True, "error": None}]},
        {"item": ["n1:10000", analyst], "msg": "login refused", "results": []},
    ]
    outcomes = sql_bypass_outcomes(runs, attempts)
    assert [o["as_expected"] for o in outcomes] == [True, False, False, False]
    assert outcomes[3]["class"] == "the catalogue's run" and outcomes[3]["error"] == "login refused"
    assert "secret-password" not in str(outcomes)
    findings = security_audit_findings({"clients": {"sql_bypass": outcomes}})
    assert findings["checks"]["sql_bypass_refused"] == {"passed": 1, "failed": 3}
    assert "disk: SELECT 1: it ran" in [f["detail"] for f in findings["findings"]]
