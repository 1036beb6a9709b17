"""A real SQL endpoint on loopback for the authorization tests: Spark 3.5's Thrift server from the
artifact cache's pyspark distribution, with Iceberg, the collection's authenticator and
authorization extension (tools/sql-security, built by make artifacts), TLS and the policy the
sql_authz_policy filter makes from an inventory-like description (POLICY below). Statements go
through the collection's own HiveServer2 client (module_utils/hiveserver2), as users would send
them: logged in, over TLS, in sessions that may carry settings.

Needs `make artifacts` (the cache) and a JDK; DLFB_CACHE points at the cache as in the Makefile.
"""

import base64
import hashlib
import json
import os
import signal
import socket
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))
sys.path.insert(0, str(ROOT))

from ansible_collections.datalake_fb.platform.plugins.filter.sql_authz import sql_authz_policy  # noqa: E402
from ansible_collections.datalake_fb.platform.plugins.module_utils.hiveserver2 import (  # noqa: E402
    HiveServer2,
    HiveServer2Error,
    tls_context,
)
from ansible_collections.datalake_fb.platform.plugins.module_utils.thrift_binary import ThriftError  # noqa: E402
from tests.support.certificates import self_signed  # noqa: E402

CACHE = Path(os.environ.get("DLFB_CACHE", Path.home() / ".cache" / "datalake-fb"))
ARTIFACTS = CACHE / "artifacts"
SPARK_VARS = yaml.safe_load((ROOT / "roles/spark/vars/main.yml").read_text())
SPARK_DEFAULTS = yaml.safe_load((ROOT / "roles/spark/defaults/main.yml").read_text())
PASSWORDS = {
    "dlfb_admin": "admin-password-0001",
    "analyst_north": "north-password-0001",
    "analyst_south": "south-password-001",
}

# The description the role turns into the endpoint's policy, as an inventory would give it.
POLICY = {
    "users": [
        {"name": "dlfb_admin", "admin": True},
        {"name": "analyst_north", "groups": ["analysts"]},
        {"name": "analyst_south", "groups": ["analysts"]},
    ],
    "grants": [
        {"group": "analysts", "select": ["spark_catalog.sales_secure", "lakehouse.reference.departments"]},
        {"user": "analyst_north", "write": ["lakehouse.scratch_analyst_north"]},
    ],
    "protected_tables": ["lakehouse.sales.orders", "lakehouse.sales.user_departments"],
    "secure_views": [
        {
            "name": "spark_catalog.sales_secure.orders",
            "reads": ["lakehouse.sales.orders", "lakehouse.sales.user_departments"],
        }
    ],
    "column_masks": [
        {"table": "lakehouse.sales.orders", "column": "customer", "mask": "partial", "show_last": 4},
        {"table": "lakehouse.sales.orders", "column": "card", "mask": "hash"},
    ],
}


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _spark_home():
    """The pyspark sdist's deps/ (bin, jars), unpacked once into the cache."""
    version = SPARK_DEFAULTS["spark_version"]
    tarball = ARTIFACTS / "spark" / f"pyspark-{version}.tar.gz"
    if not tarball.exists():
        pytest.fail(f"{tarball} is missing: run make artifacts first")
    home = CACHE / "test-spark" / f"pyspark-{version}" / "deps"
    if not (home / ".unpacked").exists():
        with tarfile.open(tarball) as archive:
            members = [m for m in archive.getmembers() if m.name.startswith(f"pyspark-{version}/deps/")]
            archive.extractall(CACHE / "test-spark", members=members, filter="data")
        (home / ".unpacked").touch()
    return home


def _keystore(directory, password):
    """A self-signed certificate for 127.0.0.1 in a PKCS#12 store (the pki role's shape) and its PEM."""
    key, cert = self_signed()
    store = pkcs12.serialize_key_and_certificates(
        b"node", key, cert, None, serialization.BestAvailableEncryption(password.encode())
    )
    (directory / "node.p12").write_bytes(store)
    (directory / "ca.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return directory / "node.p12", directory / "ca.pem"


def _users_file(path):
    """The authenticator's file: user:iterations:salt:hash (PBKDF2-HMAC-SHA256, base64)."""
    lines = []
    for user, password in PASSWORDS.items():
        salt = os.urandom(16)
        digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 1000, 32)
        lines.append(f"{user}:1000:{base64.b64encode(salt).decode()}:{base64.b64encode(digest).decode()}")
    path.write_text("\n".join(lines) + "\n")


class Endpoint:
    """The running server: sessions as a user, statements run and their outcome."""

    def __init__(self, port, ca_file, workdir):
        self.port, self.ca_file, self.workdir = port, str(ca_file), workdir

    def session(self, user, configuration=None, password=None):
        return HiveServer2(
            "127.0.0.1",
            self.port,
            user,
            PASSWORDS[user] if password is None else password,
            tls_context(self.ca_file),
            configuration=configuration,
        )

    def run(self, user, statement, configuration=None):
        """('ok', rows) or ('error', message)."""
        try:
            with self.session(user, configuration) as session:
                return "ok", session.execute(statement)[1]
        except (HiveServer2Error, ThriftError) as exc:
            return "error", str(exc)


@pytest.fixture(scope="session")
def endpoint(tmp_path_factory):
    home = _spark_home()
    work = tmp_path_factory.mktemp("sql-endpoint")
    conf = work / "conf"
    conf.mkdir()
    security_version = SPARK_VARS["spark_sql_security_version"]
    security_jar = Path(
        os.environ.get(
            "DLFB_SQL_SECURITY_JAR", ARTIFACTS / "sql_security" / f"datalake-sql-security-{security_version}.jar"
        )
    )
    iceberg_jar = (
        ARTIFACTS / "iceberg" / f"iceberg-spark-runtime-3.5_2.12-{SPARK_DEFAULTS['spark_iceberg_version']}.jar"
    )
    for jar in (security_jar, iceberg_jar):
        if not jar.exists():
            pytest.fail(f"{jar} is missing: run make artifacts first")
    keystore_password = "keystore-password-01"
    keystore, ca_file = _keystore(work, keystore_password)
    _users_file(conf / "sql-users")
    policy = sql_authz_policy(
        POLICY["users"],
        grants=POLICY["grants"],
        protected_tables=POLICY["protected_tables"],
        secure_views=POLICY["secure_views"],
        column_masks=POLICY["column_masks"],
        settable_keys=SPARK_DEFAULTS["spark_sql_settable_keys"],
        security_settings=SPARK_DEFAULTS["spark_sql_security_settings"],
        session_keys=SPARK_VARS["spark_sql_session_keys"],
        catalogs=["spark_catalog", "lakehouse", "default_iceberg"],
        object_store_schemes=["s3a"],
        table_properties=SPARK_DEFAULTS["spark_sql_table_properties"],
    )
    (conf / "sql-authz.json").write_text(json.dumps(policy))
    port = _free_port()
    # the spark role's settings that matter here; local mode, a Hadoop Iceberg catalog on local disk
    defaults = {
        "spark.master": "local[2]",
        "spark.ui.enabled": "false",
        "spark.sql.extensions": f"{SPARK_VARS['spark_iceberg_extensions']},fb.datalake.sql.SqlAuthzExtension",
        "spark.datalake.authz.policy": str(conf / "sql-authz.json"),
        "spark.driver.extraClassPath": f"{iceberg_jar}:{security_jar}",
        "spark.sql.catalog.lakehouse": "org.apache.iceberg.spark.SparkCatalog",
        "spark.sql.catalog.lakehouse.type": "hadoop",
        "spark.sql.catalog.lakehouse.warehouse": f"file:{work}/warehouse",
        "spark.sql.defaultCatalog": "lakehouse",
        "spark.sql.warehouse.dir": f"file:{work}/hive-warehouse",
        "spark.hadoop.javax.jdo.option.ConnectionURL": f"jdbc:derby:;databaseName={work}/metastore_db;create=true",
        "spark.hadoop.hive.server2.use.SSL": "true",
        "spark.hadoop.hive.server2.keystore.path": str(keystore),
        "spark.hadoop.hive.server2.keystore.password": keystore_password,
        "spark.driver.memory": "1g",
        **SPARK_VARS["spark_thrift_sql_defaults"],
    }
    (conf / "spark-defaults.conf").write_text("".join(f"{k} {v}\n" for k, v in defaults.items()))
    log = (work / "thrift.log").open("w")
    command = [
        str(home / "bin" / "spark-submit"),
        "--class",
        "org.apache.spark.sql.hive.thriftserver.HiveThriftServer2",
        "--driver-java-options",
        f"-Ddatalake.sql.users.file={conf / 'sql-users'} -Dderby.system.home={work}",
        "--hiveconf",
        f"hive.server2.thrift.port={port}",
        "--hiveconf",
        "hive.server2.thrift.bind.host=127.0.0.1",
        *[
            arg
            for key, value in SPARK_VARS["spark_thrift_hiveconf"].items()
            for arg in ("--hiveconf", f"{key}={value}")
        ],
        "spark-internal",
    ]
    env = dict(os.environ, SPARK_HOME=str(home), SPARK_CONF_DIR=str(conf), SPARK_LOCAL_IP="127.0.0.1")
    server = subprocess.Popen(command, cwd=work, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    endpoint = Endpoint(port, ca_file, work)
    try:
        deadline = time.monotonic() + 240
        while True:
            if server.poll() is not None:
                pytest.fail(
                    f"the Thrift server exited ({server.returncode}): {(work / 'thrift.log').read_text()[-3000:]}"
                )
            if endpoint.run("dlfb_admin", "SELECT 1")[0] == "ok":
                break
            if time.monotonic() > deadline:
                pytest.fail(f"the Thrift server did not answer in 240 s: {(work / 'thrift.log').read_text()[-3000:]}")
            time.sleep(2)
        yield endpoint
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
        log.close()
