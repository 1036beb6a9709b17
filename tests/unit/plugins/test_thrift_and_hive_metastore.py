"""The Thrift binary client against a real socket server on loopback that answers like a Hive
Metastore, in plaintext or over TLS with a certificate made here, and the hive_metastore_info
module and failover_check's metastore read on top of it."""

import datetime
import ipaddress
import socket
import ssl
import struct
import threading
import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.datalake_fb.platform.plugins.module_utils import thrift_binary as tb
from ansible_collections.datalake_fb.platform.plugins.module_utils.hive_metastore import HiveMetastore, tls_context
from ansible_collections.datalake_fb.platform.plugins.modules import failover_check, hive_metastore_info


def string(value):
    data = value.encode()
    return struct.pack("!i", len(data)) + data


def field(ttype, field_id, payload):
    return struct.pack("!bh", ttype, field_id) + payload


def string_list(values):
    return struct.pack("!bi", tb.STRING, len(values)) + b"".join(string(v) for v in values)


def struct_of(*fields):
    return b"".join(fields) + b"\x00"


def reply(name, seqid, body, mtype=tb.REPLY):
    return struct.pack("!I", tb.VERSION_1 | mtype) + string(name) + struct.pack("!i", seqid) + body


DATABASE = struct_of(
    field(tb.STRING, 1, string("sales")),
    field(tb.STRING, 3, string("s3a://warehouse/sales.db")),
    field(tb.MAP, 4, struct.pack("!bbi", tb.STRING, tb.STRING, 1) + string("k") + string("v")),
    field(tb.STRING, 6, string("spark")),
)
TABLE = struct_of(
    field(tb.STRING, 1, string("vendas")),
    field(tb.STRING, 2, string("sales")),
    field(tb.I32, 4, struct.pack("!i", 1700000000)),
    field(tb.BOOL, 20, b"\x01"),
    field(tb.I64, 21, struct.pack("!q", 7)),
    field(tb.DOUBLE, 22, struct.pack("!d", 1.5)),
    field(tb.I16, 23, struct.pack("!h", 3)),
    field(tb.BYTE, 24, b"\x02"),
    field(tb.SET, 25, struct.pack("!bi", tb.I32, 1) + struct.pack("!i", 9)),
    field(tb.MAP, 9, struct.pack("!bbi", tb.STRING, tb.STRING, 1) + string("table_type") + string("ICEBERG")),
    field(tb.STRING, 12, string("EXTERNAL_TABLE")),
)


def answer(method, args, seqid):
    if method == "get_all_databases":
        return reply(method, seqid, struct_of(field(tb.LIST, 0, string_list(["sales", "default"]))))
    if method == "get_database" and args == ["sales"]:
        return reply(method, seqid, struct_of(field(tb.STRUCT, 0, DATABASE)))
    if method == "get_database":
        return reply(method, seqid, struct_of(field(tb.STRUCT, 1, struct_of(field(tb.STRING, 1, string(args[0]))))))
    if method == "get_all_tables":
        return reply(method, seqid, struct_of(field(tb.LIST, 0, string_list(["vendas"]))))
    if method == "get_table":
        return reply(method, seqid, struct_of(field(tb.STRUCT, 0, TABLE)))
    return reply(
        method, seqid, struct_of(field(tb.STRING, 1, string(f"Invalid method name: '{method}'"))), tb.EXCEPTION
    )


class FakeMetastore:
    """Accepts connections on loopback and answers each call as the metastore would (over TLS
    with a server ssl.SSLContext)."""

    def __init__(self, respond=answer, tls=None):
        self.respond = respond
        self.tls = tls
        self.calls = []
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn):
        if self.tls is not None:
            try:
                conn = self.tls.wrap_socket(conn, server_side=True)
            except OSError:  # a plaintext client, or one that refused the certificate
                conn.close()
                return
        reader = tb.Reader(conn.recv)
        with conn:
            while True:
                try:
                    header = reader._unpack("!I")
                except (tb.ThriftError, OSError):
                    return
                method, seqid = reader.read_string(), reader._unpack("!i")
                args = [value for _, value in sorted(reader.read_struct().items())]
                self.calls.append((method, header & 0xFF))
                if header & 0xFF == tb.ONEWAY:
                    continue
                conn.sendall(self.respond(method, args, seqid))

    def close(self):
        self.server.close()


@pytest.fixture
def metastore():
    server = FakeMetastore()
    yield server
    server.close()


def certificate(subject, issuer_name, issuer_key, public_key, sans=(), ca=False):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer_name)]))
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(sans)), critical=False)
    return builder.sign(issuer_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    """A CA, a server certificate it signed for 127.0.0.1 only, and an unrelated CA."""
    files = tmp_path_factory.mktemp("pki")
    ca_key, other_key, server_key = (ec.generate_private_key(ec.SECP256R1()) for _ in range(3))
    (files / "ca.crt").write_bytes(certificate("test CA", "test CA", ca_key, ca_key.public_key(), ca=True))
    (files / "other-ca.crt").write_bytes(certificate("other", "other", other_key, other_key.public_key(), ca=True))
    san = [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    (files / "server.crt").write_bytes(certificate("metastore", "test CA", ca_key, server_key.public_key(), san))
    (files / "server.key").write_bytes(
        server_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return files


@pytest.fixture
def tls_metastore(pki):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.crt", pki / "server.key")
    server = FakeMetastore(tls=context)
    yield server
    server.close()


def test_calls_decode_databases_and_tables(metastore):
    with HiveMetastore("127.0.0.1", metastore.port, timeout=5) as client:
        assert client.databases() == ["default", "sales"]
        database = client.database("sales")
        assert database == {
            "name": "sales",
            "description": None,
            "location_uri": "s3a://warehouse/sales.db",
            "parameters": {"k": "v"},
            "owner_name": "spark",
        }
        assert client.tables("sales") == ["vendas"]
        table = client.table("sales", "vendas")
        assert table["table_type"] == "EXTERNAL_TABLE" and table["parameters"] == {"table_type": "ICEBERG"}
    # the client says goodbye with a one-way shutdown, as the Java client does
    deadline = time.monotonic() + 5
    while metastore.calls[-1] != ("shutdown", tb.ONEWAY) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert metastore.calls[-1] == ("shutdown", tb.ONEWAY)


def test_declared_exceptions_are_named(metastore):
    with (
        HiveMetastore("127.0.0.1", metastore.port, timeout=5) as client,
        pytest.raises(tb.ThriftError, match="get_database: NoSuchObjectException: nope"),
    ):
        client.database("nope")


def test_application_exception_is_reported(metastore):
    with (
        tb.ThriftClient("127.0.0.1", metastore.port, timeout=5) as client,
        pytest.raises(tb.ThriftError, match="Invalid method name"),
    ):
        client.call("no_such_call")


def test_wrong_reply_and_garbage_are_rejected():
    wrong = FakeMetastore(lambda method, args, seqid: reply("other", seqid, b"\x00"))
    garbage = FakeMetastore(lambda method, args, seqid: b"HTTP/1.1 400 Bad Request\r\n\r\n")
    try:
        with tb.ThriftClient("127.0.0.1", wrong.port, 5) as client, pytest.raises(tb.ThriftError, match="unexpected"):
            client.call("get_all_databases")
        with tb.ThriftClient("127.0.0.1", garbage.port, 5) as client, pytest.raises(tb.ThriftError, match="header"):
            client.call("get_all_databases")
    finally:
        wrong.close()
        garbage.close()


def test_unknown_type_and_truncated_reply_are_errors():
    with pytest.raises(tb.ThriftError, match="unknown Thrift type 99"):
        tb.Reader(iter([]).__next__).read_value(99)
    chunks = [struct.pack("!i", 10), b"abc", b""]
    with pytest.raises(tb.ThriftError, match="connection closed"):
        tb.Reader(lambda size: chunks.pop(0)).read_string()
    with pytest.raises(tb.ThriftError, match="implausible string length"):
        tb.Reader(lambda size: struct.pack("!i", -5)).read_string()


def test_connection_refused_is_a_clear_error():
    closed = socket.create_server(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    with (
        pytest.raises(tb.ThriftError, match=f"cannot connect to 127.0.0.1:{port}"),
        tb.ThriftClient("127.0.0.1", port, 2),
    ):
        pass


def test_module_reports_databases_tables_and_table(metastore, run_module):
    outcome, result = run_module(
        hive_metastore_info.main, {"host": "127.0.0.1", "port": metastore.port, "database": "sales", "table": "vendas"}
    )
    assert outcome == "exit" and result["changed"] is False
    assert result["databases"] == ["default", "sales"] and result["tables"] == ["vendas"]
    assert result["table_info"]["parameters"]["table_type"] == "ICEBERG"


def test_module_fails_clearly(metastore, run_module):
    outcome, result = run_module(
        hive_metastore_info.main, {"host": "127.0.0.1", "port": metastore.port, "database": "nope"}
    )
    assert outcome == "fail" and "NoSuchObjectException" in result["msg"]
    outcome, result = run_module(hive_metastore_info.main, {"port": 70000})
    assert outcome == "fail" and "between 1 and 65535" in result["msg"]
    outcome, result = run_module(hive_metastore_info.main, {"table": "vendas"})
    assert outcome == "fail" and "database" in result["msg"]


def test_calls_over_tls_check_the_certificate_and_the_name(tls_metastore, pki):
    with HiveMetastore("127.0.0.1", tls_metastore.port, 5, tls_context(str(pki / "ca.crt"))) as client:
        assert client.databases() == ["default", "sales"]
    with (
        pytest.raises(tb.ThriftError, match=r"TLS with 127\.0\.0\.1:\d+: unable to get local issuer certificate"),
        HiveMetastore("127.0.0.1", tls_metastore.port, 5, tls_context(str(pki / "other-ca.crt"))),
    ):
        pass
    # the certificate names 127.0.0.1 only
    with (
        pytest.raises(tb.ThriftError, match=r"TLS with localhost:\d+: .*mismatch"),
        HiveMetastore("localhost", tls_metastore.port, 5, tls_context(str(pki / "ca.crt"))),
    ):
        pass
    assert tls_context(None) is None


def test_a_plaintext_call_to_a_tls_metastore_gets_no_answer(tls_metastore):
    with HiveMetastore("127.0.0.1", tls_metastore.port, 5) as client, pytest.raises(tb.ThriftError):
        client.databases()
    assert tls_metastore.calls == []


def test_module_and_failover_check_read_over_tls(tls_metastore, pki, run_module):
    ca_file = str(pki / "ca.crt")
    outcome, result = run_module(
        hive_metastore_info.main, {"host": "127.0.0.1", "port": tls_metastore.port, "ca_file": ca_file}
    )
    assert outcome == "exit" and result["databases"] == ["default", "sales"]
    outcome, result = run_module(
        hive_metastore_info.main, {"host": "127.0.0.1", "port": tls_metastore.port, "ca_file": str(pki / "missing")}
    )
    assert outcome == "fail" and "cannot use" in result["msg"] and "as a CA certificate" in result["msg"]
    address = f"127.0.0.1:{tls_metastore.port}"
    assert failover_check.read_metastore(address, 5, ca_file) is True
    assert failover_check.read_metastore(address, 5) is False
    assert failover_check.read_metastore(address, 5, str(pki / "other-ca.crt")) is False
