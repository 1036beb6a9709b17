"""The SQL endpoint's authorization, on a real Spark Thrift server (conftest.py): the bypass
catalogue refused class by class with its reason, and what users are granted still works -
secure views with masked columns, an admin's whole table, a scratch namespace's writes."""

import json
from pathlib import Path

import pytest
import yaml

from ansible_collections.datalake_fb.platform.plugins.filter.sql_authz import sql_bypass_attempts
from ansible_collections.datalake_fb.platform.plugins.module_utils.hiveserver2 import HiveServer2Error

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "dlfb_admin"
PLACES = {
    "user": "analyst_north",
    "admin": ADMIN,
    "protected": "lakehouse.sales.orders",
    "protected_other": "lakehouse.sales.user_departments",
    "protected_alias": "spark_catalog.sales.orders",
    "secure_view": "spark_catalog.sales_secure.orders",
    "masked_column": "customer",
    "ungranted": "lakehouse.finance.salaries",
    "scratch": "lakehouse.scratch_analyst_north",
    "server_conf": "/etc/hostname",
    "users_file": "/etc/passwd",
    "keystore": "/etc/os-release",
}
ATTEMPTS = sql_bypass_attempts(yaml.safe_load((ROOT / "playbooks/files/sql_bypass_catalogue.yml").read_text()), PLACES)
SETUP = [
    "CREATE NAMESPACE IF NOT EXISTS lakehouse.sales",
    "CREATE TABLE lakehouse.sales.orders (id BIGINT, department STRING, amount DOUBLE, customer STRING, card STRING)"
    " USING iceberg",
    "INSERT INTO lakehouse.sales.orders SELECT id, CASE WHEN id % 3 = 0 THEN 'south' ELSE 'north' END, id * 1.5,"
    " concat('customer', id, '@example.org'), concat('4111', lpad(cast(id AS STRING), 12, '0')) FROM range(0, 300)",
    "CREATE TABLE lakehouse.sales.user_departments (user_name STRING, department STRING) USING iceberg",
    "INSERT INTO lakehouse.sales.user_departments VALUES ('analyst_north', 'north'), ('analyst_south', 'south')",
    "CREATE NAMESPACE IF NOT EXISTS lakehouse.reference",
    "CREATE TABLE lakehouse.reference.departments (department STRING, region STRING) USING iceberg",
    "INSERT INTO lakehouse.reference.departments VALUES ('north', 'N'), ('south', 'S')",
    "CREATE NAMESPACE IF NOT EXISTS lakehouse.finance",
    "CREATE TABLE lakehouse.finance.salaries (id BIGINT, salary DOUBLE) USING iceberg",
    "CREATE NAMESPACE IF NOT EXISTS lakehouse.scratch_analyst_north",
    # the same object key through the session catalog (here its own table: a Hadoop Iceberg catalog
    # and Derby stand in for the shared metastore)
    "CREATE DATABASE IF NOT EXISTS spark_catalog.sales",
    "CREATE TABLE IF NOT EXISTS spark_catalog.sales.orders (id BIGINT) USING parquet",
    "CREATE DATABASE IF NOT EXISTS spark_catalog.sales_secure",
    "CREATE OR REPLACE VIEW spark_catalog.sales_secure.orders AS"
    " SELECT o.id, o.department, o.amount, o.customer, o.card FROM lakehouse.sales.orders o"
    " JOIN lakehouse.sales.user_departments d ON o.department = d.department"
    " WHERE d.user_name = current_user()",
]


@pytest.fixture(scope="module")
def lakehouse(endpoint):
    with endpoint.session(ADMIN) as admin:
        for statement in SETUP:
            admin.execute(statement)
    return endpoint


@pytest.mark.parametrize("attempt", ATTEMPTS, ids=[f"{i:02d}-{a['class'][:40]}" for i, a in enumerate(ATTEMPTS)])
def test_bypass_attempt_is_refused_with_its_reason(lakehouse, attempt):
    user = ADMIN if attempt["as"] == "admin" else PLACES["user"]
    outcome, detail = lakehouse.run(user, attempt["sql"], configuration=attempt["session"])
    assert outcome == "error", f"{user} ran {attempt['sql']!r}: {detail}"
    assert attempt["refused"] in detail, f"refused for another reason: {detail}"
    if "proxy.user" not in str(attempt["session"]):
        assert f"user {user} may not" in detail


def test_catalogue_covers_every_class():
    assert len(ATTEMPTS) >= 30
    assert len({a["class"] for a in ATTEMPTS}) >= 15
    assert {a["as"] for a in ATTEMPTS} == {"analyst", "admin"}


def _rows(endpoint, user, sql):
    outcome, rows = endpoint.run(user, sql)
    assert outcome == "ok", f"{user}: {sql}: {rows}"
    return rows


def test_analysts_read_their_rows_through_the_secure_view_masked(lakehouse):
    count = "SELECT department, count(*) FROM spark_catalog.sales_secure.orders GROUP BY department"
    assert _rows(lakehouse, "analyst_north", count) == [["north", 200]]
    assert _rows(lakehouse, "analyst_south", count) == [["south", 100]]
    rows = _rows(
        lakehouse, "analyst_north", "SELECT id, customer, card FROM spark_catalog.sales_secure.orders ORDER BY id"
    )
    assert len(rows) == 200
    for row_id, customer, card in rows:
        plain = f"customer{row_id}@example.org"
        assert customer == "x" * (len(plain) - 4) + plain[-4:]
        assert len(card) == 64 and card != f"4111{row_id:012d}"
    # a filter on a masked column sees the mask, not the value
    probe = "SELECT count(*) FROM spark_catalog.sales_secure.orders WHERE customer LIKE 'customer1%'"
    assert _rows(lakehouse, "analyst_north", probe) == [[0]]


def test_admin_reads_every_row_as_stored(lakehouse):
    rows = _rows(
        lakehouse, ADMIN, "SELECT count(*), count(DISTINCT department), min(customer) FROM lakehouse.sales.orders"
    )
    assert rows == [[300, 2, "customer0@example.org"]]
    assert _rows(lakehouse, ADMIN, "SELECT count(*) FROM lakehouse.sales.orders.files")[0][0] >= 1


def test_scratch_namespace_writes_work(lakehouse):
    north = "analyst_north"
    _rows(
        lakehouse,
        north,
        "CREATE TABLE lakehouse.scratch_analyst_north.mine AS SELECT * FROM spark_catalog.sales_secure.orders",
    )
    _rows(
        lakehouse,
        north,
        "INSERT INTO lakehouse.scratch_analyst_north.mine SELECT * FROM spark_catalog.sales_secure.orders",
    )
    rows = _rows(lakehouse, north, "SELECT count(*), max(customer) FROM lakehouse.scratch_analyst_north.mine")
    # the copy holds the masked values: nothing unmasked leaves through a write
    assert rows[0][0] == 400 and rows[0][1].startswith("xxx")
    _rows(lakehouse, north, "DELETE FROM lakehouse.scratch_analyst_north.mine WHERE id < 100")
    _rows(
        lakehouse,
        north,
        "CALL lakehouse.system.expire_snapshots(table => 'scratch_analyst_north.mine', retain_last => 1)",
    )
    outcome, detail = lakehouse.run("analyst_south", "SELECT count(*) FROM lakehouse.scratch_analyst_north.mine")
    assert outcome == "error" and "may not read lakehouse.scratch_analyst_north.mine" in detail
    _rows(lakehouse, north, "DROP TABLE lakehouse.scratch_analyst_north.mine")


def test_grants_by_group_and_by_table(lakehouse):
    assert _rows(lakehouse, "analyst_south", "SELECT count(*) FROM lakehouse.reference.departments") == [[2]]
    assert _rows(lakehouse, "analyst_south", "SHOW TABLES IN spark_catalog.sales_secure")
    outcome, detail = lakehouse.run("analyst_south", "SHOW TABLES IN lakehouse.finance")
    assert outcome == "error" and "may not list the namespace finance" in detail
    # a grant on one table is not one on its namespace's other tables
    outcome, detail = lakehouse.run("analyst_south", "CREATE TABLE lakehouse.reference.more (id INT)")
    assert outcome == "error" and "may not change lakehouse.reference.more" in detail


def test_allowed_settings_in_set_and_in_the_session(lakehouse):
    with lakehouse.session("analyst_north", {"set:hiveconf:spark.sql.shuffle.partitions": "3"}) as session:
        assert session.execute("SET spark.sql.shuffle.partitions")[1] == [["spark.sql.shuffle.partitions", "3"]]
        session.execute("SET spark.sql.session.timeZone=UTC")
        assert session.execute("SELECT count(*) FROM spark_catalog.sales_secure.orders")[1] == [[200]]


def test_a_changed_policy_applies_without_a_restart(lakehouse):
    policy_file = lakehouse.workdir / "conf" / "sql-authz.json"
    original = policy_file.read_text()
    policy = json.loads(original)
    policy["users"]["analyst_south"]["select_namespaces"].append("finance")
    try:
        policy_file.write_text(json.dumps(policy))
        assert _rows(lakehouse, "analyst_south", "SELECT count(*) FROM lakehouse.finance.salaries") == [[0]]
        policy_file.write_text("{not json")
        outcome, detail = lakehouse.run("analyst_south", "SELECT 1")
        assert outcome == "error" and "is unusable" in detail
    finally:
        policy_file.write_text(original)
    assert lakehouse.run("analyst_south", "SELECT count(*) FROM lakehouse.finance.salaries")[0] == "error"


def test_logins_are_still_checked(lakehouse):
    with pytest.raises(HiveServer2Error, match="login refused"):
        with lakehouse.session("analyst_north", password="not-the-password-1"):
            pass
