"""MinIO on a lab node: running, healthy, the warehouse bucket, and real S3 work done with the
lakehouse service account (whose credentials are the generated lab secrets)."""

import os
import shlex
from pathlib import Path


def secret(name):
    return Path(os.environ["DLFB_ROOT"], ".lab/secrets", name).read_text().strip()


def mc(host, command, access_key, secret_key):
    alias = shlex.quote(f"https://{access_key}:{secret_key}@127.0.0.1:9000")
    return host.run(f"MC_CONFIG_DIR=/tmp/mc-test MC_HOST_t={alias} /usr/local/bin/mc {command}")


def test_service_and_health(host):
    service = host.service("minio")
    assert service.is_running and service.is_enabled
    # over TLS, the certificate checked against the node's trust store (which has the project CA)
    health = "curl -fsS -o /dev/null -w '%{http_code}' https://127.0.0.1:9000/minio/health/cluster"
    assert host.run(health).stdout == "200"


def test_s3_speaks_tls_only(host):
    """A plaintext request gets only Go's refusal, no S3 answer."""
    plain = host.run("curl -sS -w ' %{http_code}' http://127.0.0.1:9000/minio/health/live")
    assert plain.stdout == "Client sent an HTTP request to an HTTPS server.\n 400", plain.stdout


def test_binary_reports_the_pinned_release(host):
    assert "RELEASE.2026-02-12T20-18-48Z" in host.run("/usr/local/bin/minio --version").stdout


def test_root_credentials_are_not_world_readable(host):
    env = host.file("/etc/minio/minio.env")
    assert env.mode == 0o640 and env.user == "root" and env.group == "minio"


def test_service_account_writes_and_reads_the_warehouse(host):
    key, value = secret("s3_lakehouse_access_key"), secret("s3_lakehouse")
    assert mc(host, "ls t/warehouse", key, value).rc == 0
    assert host.run("echo molecule-object > /tmp/object.txt").rc == 0
    assert mc(host, "cp /tmp/object.txt t/warehouse/molecule/object.txt", key, value).rc == 0
    assert mc(host, "cat t/warehouse/molecule/object.txt", key, value).stdout.strip() == "molecule-object"
    assert mc(host, "rm t/warehouse/molecule/object.txt", key, value).rc == 0


def test_wrong_secret_is_refused(host):
    assert mc(host, "ls t/warehouse", secret("s3_lakehouse_access_key"), "not-the-secret").rc != 0


def test_service_account_reaches_only_its_own_buckets(host):
    """The lakehouse account's policy (minio_bucket_policies): its buckets, nothing else."""
    key, value = secret("s3_lakehouse_access_key"), secret("s3_lakehouse")
    root_mc = "/usr/local/sbin/datalake-mc"  # the role's root-only wrapper
    assert host.run(f"{root_mc} mb --ignore-existing local/molecule-private").rc == 0
    try:
        assert mc(host, "ls t/spark-events", key, value).rc == 0
        refusals = ("ls t/molecule-private", "mb t/not-its-bucket", "admin info t", "rb --force t/warehouse")
        for refused in refusals:
            outcome = mc(host, refused, key, value)
            assert outcome.rc != 0 and "Access Denied" in outcome.stdout + outcome.stderr, refused
        assert mc(host, "ls t/warehouse", key, value).rc == 0
    finally:
        assert host.run(f"{root_mc} rb --force local/molecule-private").rc == 0
