#!/usr/bin/env python3
"""The security audit's view from a client's seat (run by playbooks/security_audit.yml as
`python -c <this source> <request>` with the tools virtualenv of a node, which has kafka-python and
PyMySQL): what an endpoint lets in without credentials, and whether it speaks TLS. The request is
{kafka: [host:port], mariadb: [host:port], tls: [host:port]} as JSON in the first argument; prints
{kafka, mariadb, tls} results as JSON.

- kafka: an anonymous client lists the topics ("accepted") or is turned away ("refused: ...");
  an error of the client itself ("probe error: ...") is neither, so the audit reports it;
- mariadb: root and the empty user without a password ("accepted" for any login that works),
  over TLS when the server offers it, so the password is what is tested;
- tls: the endpoint completes a TLS handshake ("TLSv1.3", ...) or not ("plaintext: ..."), and
  its certificate is valid for its name by the node's trust store (else " unverified: ..." follows);
  the mariadb targets are in it too, their TLS begun inside the MySQL protocol.
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
            pymysql.connect(
                host=host, port=port, user=user, password="", connect_timeout=TIMEOUT, ssl=ssl.create_default_context()
            ).close()
            outcomes[user or "(anonymous)"] = "accepted"
        except pymysql.err.MySQLError as error:
            outcomes[user or "(anonymous)"] = f"refused: {error.args[0] if error.args else type(error).__name__}"
    return outcomes


# MySQL protocol capability flags (the server's greeting, the client's SSL request)
CLIENT_PROTOCOL_41 = 0x200
CLIENT_SSL = 0x800
CLIENT_SECURE_CONNECTION = 0x8000


def mysql_ssl_request(sock):
    """MariaDB begins TLS inside its protocol: its greeting says whether it can, the client answers
    with an SSL request packet (sequence 1), and the TLS handshake follows on the same socket."""
    with sock.makefile("rb") as stream:
        header = stream.read(4)
        length = int.from_bytes(header[:3], "little")
        greeting = stream.read(length)
    if len(header) < 4 or len(greeting) < length:
        raise ConnectionError("closed by the server")
    # protocol version (1 byte), server version (NUL-terminated), connection id (4), scramble (8),
    # filler (1), then the lower two bytes of the capability flags
    flags_at = greeting.index(b"\0", 1) + 1 + 4 + 8 + 1
    if not int.from_bytes(greeting[flags_at : flags_at + 2], "little") & CLIENT_SSL:
        raise ConnectionError("the server offers no TLS")
    body = (CLIENT_PROTOCOL_41 | CLIENT_SSL | CLIENT_SECURE_CONNECTION).to_bytes(4, "little")
    body += (1 << 24).to_bytes(4, "little") + bytes([33]) + bytes(23)
    sock.sendall(len(body).to_bytes(3, "little") + bytes([1]) + body)


def handshake(host, port, context, before_tls):
    with socket.create_connection((host, port), timeout=TIMEOUT) as raw:
        if before_tls:
            before_tls(raw)
        with context.wrap_socket(raw, server_hostname=host) as tls:
            return tls.version()


def tls_version(target, before_tls=None):
    """The TLS version the endpoint speaks ("plaintext: ..." if none), and " unverified: ..." after
    it when its certificate does not check out against the node's trust store for its name."""
    host, port = split(target)
    anything = ssl.create_default_context()
    anything.check_hostname = False
    anything.verify_mode = ssl.CERT_NONE
    try:
        version = handshake(host, port, anything, before_tls)
    except (OSError, ssl.SSLError) as error:
        return f"plaintext: {type(error).__name__}"
    try:
        handshake(host, port, ssl.create_default_context(), before_tls)
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
                "tls": {target: tls_version(target) for target in request.get("tls", [])}
                | {target: tls_version(target, mysql_ssl_request) for target in request.get("mariadb", [])},
            }
        )
    )


if __name__ == "__main__":
    main()
