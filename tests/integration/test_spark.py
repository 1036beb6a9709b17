"""Spark standalone on a lab node: master, worker and history server healthy, a real PySpark
application run on the master, and the seed's tuning keys and the lakehouse catalog in
spark-defaults.conf."""

import json
import shlex

APP = """
from pyspark.sql import SparkSession
spark = SparkSession.builder.appName("molecule-spark").getOrCreate()
total = spark.range(1, 100001).selectExpr("sum(id) AS s").collect()[0].s
print("RESULT", total, spark.sparkContext.master)
spark.stop()
"""


def test_daemons_running(host):
    for unit in ("spark-master", "spark-worker", "spark-history", "spark-thrift"):
        service = host.service(unit)
        assert service.is_running and service.is_enabled, unit


def test_master_alive_with_its_worker(host):
    state = json.loads(host.check_output("curl -fsS http://127.0.0.1:8080/json/"))
    assert state["status"] == "ALIVE"
    assert [w["state"] for w in state["workers"]] == ["ALIVE"]


def test_history_server_answers(host):
    assert host.run("curl -fsS http://127.0.0.1:18080/api/v1/applications").rc == 0


def test_pyspark_application_on_the_master(host, node):
    host.run(f"echo {shlex.quote(APP)} > /tmp/molecule_app.py && chmod 644 /tmp/molecule_app.py")
    result = host.run(
        "runuser -u spark -- env SPARK_CONF_DIR=/etc/spark /opt/spark/current/bin/spark-submit /tmp/molecule_app.py"
    )
    assert result.rc == 0, result.stderr[-2000:]
    line = next(line for line in result.stdout.splitlines() if line.startswith("RESULT"))
    assert line.split()[1:] == ["5000050000", f"spark://{node['name']}:7077"]


def test_defaults_carry_the_seed_tuning_and_the_catalog(host):
    defaults = dict(
        line.split(None, 1)
        for line in host.file("/etc/spark/spark-defaults.conf").content_string.splitlines()
        if line and not line.startswith("#")
    )
    assert defaults["spark.sql.adaptive.enabled"] == "true"
    assert defaults["spark.sql.adaptive.skewJoin.enabled"] == "true"
    assert defaults["spark.sql.statistics.histogram.enabled"] == "true"
    assert defaults["spark.sql.catalog.lakehouse"] == "org.apache.iceberg.spark.SparkCatalog"
    assert defaults["spark.sql.catalog.lakehouse.io-impl"] == "org.apache.iceberg.aws.s3.S3FileIO"
    assert defaults["spark.sql.catalog.lakehouse.table-default.write.parquet.compression-codec"] == "zstd"
    assert defaults["spark.sql.catalog.lakehouse.table-default.write.metadata.delete-after-commit.enabled"] == "true"
    assert host.file("/etc/spark/spark-defaults.conf").mode == 0o640


def test_iceberg_runtime_installed(host):
    assert host.file("/opt/spark/extra-jars/iceberg/iceberg-spark-runtime-3.5_2.12-1.12.0.jar").exists


def test_sql_endpoint_runs_the_authorization_with_its_policy(host):
    unit = host.file("/etc/systemd/system/spark-thrift.service").content_string
    assert "fb.datalake.sql.SqlAuthzExtension" in unit
    assert "--conf spark.datalake.authz.policy=/etc/spark/sql-authz.json" in unit
    # the second wall, and no session running as another user
    for setting in (
        "spark.sql.runSQLOnFiles=false",
        "spark.sql.variable.substitute=false",
        "hive.server2.allow.user.substitution=false",
    ):
        assert setting in unit, setting
    policy = host.file("/etc/spark/sql-authz.json")
    assert (policy.user, policy.group, policy.mode) == ("root", "spark", 0o640)
    content = json.loads(policy.content_string)
    assert content["version"] == 1 and content["admins"] == ["dlfb_admin"]
    assert content["users"]["analyst_north"]["write_namespaces"] == ["scratch_analyst_north"]
    assert content["protected_tables"]["sales.orders"] == ["sales_secure.orders"]
