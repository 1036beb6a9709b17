"""MariaDB on a lab node: running, secured, the metastore database and a working hive login."""

import os
import shlex
from pathlib import Path


def sql(host, query, extra=""):
    return host.run(f"mysql --batch --skip-column-names {extra} -e {shlex.quote(query)}")


def test_service_enabled_and_answering(host):
    service = host.service("mariadb")
    assert service.is_running and service.is_enabled
    assert host.socket("tcp://0.0.0.0:3306").is_listening
    assert sql(host, "SELECT 1").stdout.strip() == "1"


def test_socket_activation_is_off_so_mariadbd_holds_its_port(host):
    assert host.run("systemctl is-enabled mariadb.socket").stdout.strip() == "masked"
    listener = host.run("ss -Htlne 'sport = :3306'").stdout
    mysql_uid = host.user("mysql").uid
    assert f"uid:{mysql_uid} " in listener, listener


def test_no_anonymous_or_remote_root_and_no_test_database(host):
    accounts = sql(host, "SELECT CONCAT(User, '@', Host) FROM mysql.user").stdout.split()
    assert not [a for a in accounts if a.startswith("@")], accounts
    assert [a for a in accounts if a.startswith("root@")] == ["root@localhost"], accounts
    assert "test" not in sql(host, "SHOW DATABASES").stdout.split()


def test_metastore_database_is_latin1(host):
    charset = sql(
        host, "SELECT DEFAULT_CHARACTER_SET_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'metastore'"
    ).stdout.strip()
    assert charset == "latin1"


# over TCP, TLS with the server's certificate and name checked against the project CA
TLS = "--ssl --ssl-verify-server-cert --ssl-ca=/etc/datalake/tls/ca.crt"


def test_hive_user_logs_in_over_tls_with_the_generated_password(host, node):
    password = Path(os.environ["DLFB_ROOT"], ".lab/secrets/hive_metastore_db").read_text().strip()
    login = f"-h {node['ip']} -u hive -p{shlex.quote(password)} metastore"
    result = sql(
        host,
        "SELECT CURRENT_USER(), VARIABLE_VALUE FROM information_schema.SESSION_STATUS "
        "WHERE VARIABLE_NAME = 'SSL_VERSION'",
        f"{TLS} {login}",
    )
    assert result.rc == 0, result.stderr
    # the lab's networks, not any host (inventories/lab and inventories/ha), over TLS 1.2 or 1.3
    user, version = result.stdout.split()
    assert user == "hive@10.231.%"
    assert version in ("TLSv1.2", "TLSv1.3"), version
    wrong = sql(host, "SELECT 1", f"{TLS} -h {node['ip']} -u hive -pwrong-password metastore")
    assert wrong.rc != 0 and "Access denied" in wrong.stderr, wrong.stderr
    # the same login that worked over TLS is turned away without it (MariaDB says only "Access
    # denied" to a plaintext client: require_secure_transport)
    plain = sql(host, "SELECT 1", f"--skip-ssl {login}")
    assert plain.rc != 0 and "Access denied" in plain.stderr, plain.stderr


def test_settings_file_is_in_effect(host):
    assert sql(host, "SELECT @@innodb_flush_log_at_trx_commit").stdout.strip() == "1"
    assert sql(host, "SELECT @@max_connections").stdout.strip() == "200"
