#!/usr/bin/env python3
"""The security audit's view from a client's seat (run by playbooks/security_audit.yml as
`python -c <this source> <request>` with the tools virtualenv of a node, which has kafka-python and
PyMySQL): what an endpoint lets in without credentials, and whether it speaks TLS. The request is
{kafka: [host:port], mariadb: [host:port], tls: [host:port]} as JSON in the first argument; prints
{kafka, mariadb, tls} results as JSON.

- kafka: an anonymous client lists the topics ("accepted") or is turned away ("refused: ...");
  an error of the client itself ("probe error: ...") is neither, so the audit reports it;
- mariadb: root and the empty user without a password ("accepted" for any login that works);
- tls: the endpoint completes a TLS handshake ("TLSv1.3", ...) or not ("plaintext: ..."), and
  its certificate is valid for its name by the node's trust store (else " unverified: ..." follows).
"""

import json
import socket
import ssl
import sys

# the nodes' tools virtualenv (roles/common)
import pymysql
from kafka import KafkaAdminClient
from kafka.errors import KafkaConfigurationError

TIMEOUT = 5


def split(target):
    host, port = target.rsplit(":", 1)
    return host, int(port)


# Errors of the probe itself: a wrong setting must not pass for the broker turning it away
# (KafkaAdminClient refuses api_version_auto_timeout_ms with one of these).
CLIENT_ERRORS = (KafkaConfigurationError, ValueError, TypeError, AttributeError)


def kafka_anonymous(target):
    # a listener that cannot be reached has refused nobody: that is the probe's error
    try:
        socket.create_connection(split(target), timeout=TIMEOUT).close()
    except OSError as error:
        return f"probe error: unreachable: {type(error).__name__}: {error}"
    client = None
    try:
        client = KafkaAdminClient(
            bootstrap_servers=[target],
            client_id="security-audit",
            request_timeout_ms=TIMEOUT * 1000,
            bootstrap_timeout_ms=TIMEOUT * 1000,
        )
        return f"accepted: listed {len(client.list_topics())} topics"
    except CLIENT_ERRORS as error:
        return f"probe error: {type(error).__name__}: {error}"
    except Exception as error:  # noqa: BLE001 - any other failure to get in is a refusal
        return f"refused: {type(error).__name__}"
    finally:
        if client is not None:
            client.close()


def mariadb_without_password(target):
    host, port = split(target)
    outcomes = {}
    for user in ("root", ""):
        try:
            pymysql.connect(host=host, port=port, user=user, password="", connect_timeout=TIMEOUT).close()
            outcomes[user or "(anonymous)"] = "accepted"
        except pymysql.err.MySQLError as error:
            outcomes[user or "(anonymous)"] = f"refused: {error.args[0] if error.args else type(error).__name__}"
    return outcomes


def handshake(host, port, context):
    with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.version()


def tls_version(target):
    """The TLS version the endpoint speaks ("plaintext: ..." if none), and " unverified: ..." after
    it when its certificate does not check out against the node's trust store for its name."""
    host, port = split(target)
    anything = ssl.create_default_context()
    anything.check_hostname = False
    anything.verify_mode = ssl.CERT_NONE
    try:
        version = handshake(host, port, anything)
    except (OSError, ssl.SSLError) as error:
        return f"plaintext: {type(error).__name__}"
    try:
        handshake(host, port, ssl.create_default_context())
    except ssl.SSLCertVerificationError as error:
        return f"{version} unverified: {error.verify_message}"
    except (OSError, ssl.SSLError) as error:
        return f"{version} unverified: {type(error).__name__}"
    return version


def main():
    request = json.loads(sys.argv[1])
    print(
        json.dumps(
            {
                "kafka": {target: kafka_anonymous(target) for target in request.get("kafka", [])},
                "mariadb": {target: mariadb_without_password(target) for target in request.get("mariadb", [])},
                "tls": {target: tls_version(target) for target in request.get("tls", [])},
            }
        )
    )


if __name__ == "__main__":
    main()
