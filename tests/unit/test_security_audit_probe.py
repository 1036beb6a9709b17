"""The security audit's client probe (playbooks/files/security_audit_probe.py): how it begins TLS
inside MariaDB's protocol (the live server is probed by the audit in make test)."""

import importlib.util
import socket
from pathlib import Path

import pytest

SPEC = importlib.util.spec_from_file_location(
    "security_audit_probe", Path(__file__).resolve().parents[2] / "playbooks/files/security_audit_probe.py"
)
probe = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(probe)


def greeting(capabilities):
    """A server greeting (protocol 10) as MariaDB sends it: header (length, sequence 0), then body."""
    body = bytes([10]) + b"10.11.14-MariaDB-0+deb12u2\0" + (7).to_bytes(4, "little") + b"scramble" + b"\0"
    body += capabilities.to_bytes(2, "little") + bytes([45]) + b"rest of the greeting\0"
    return len(body).to_bytes(3, "little") + bytes([0]) + body


def test_the_ssl_request_follows_a_greeting_that_offers_tls():
    server, client = socket.socketpair()
    with server, client:
        server.sendall(greeting(0xFFFF))
        probe.mysql_ssl_request(client)
        packet = server.recv(1024)
    # 32-byte body, sequence 1: capability flags with SSL, max packet size, character set, filler
    assert int.from_bytes(packet[:3], "little") == 32 and packet[3] == 1 and len(packet) == 36
    flags = int.from_bytes(packet[4:8], "little")
    assert flags & probe.CLIENT_SSL and flags & probe.CLIENT_PROTOCOL_41
    assert packet[12] == 33 and packet[13:] == bytes(23)


def test_a_server_that_offers_no_tls_is_plaintext():
    server, client = socket.socketpair()
    with server, client:
        server.sendall(greeting(0xFFFF & ~probe.CLIENT_SSL))
        with pytest.raises(ConnectionError, match="offers no TLS"):
            probe.mysql_ssl_request(client)


def test_a_greeting_cut_short_is_an_error_not_a_hang():
    server, client = socket.socketpair()
    with client:
        with server:
            server.sendall(greeting(0xFFFF)[:10])
        with pytest.raises(ConnectionError, match="closed"):
            probe.mysql_ssl_request(client)
