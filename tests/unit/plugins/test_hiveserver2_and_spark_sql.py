"""The HiveServer2 client against a fake endpoint on loopback (TLS with a certificate made here,
SASL PLAIN, framed Thrift), and the spark_sql module on top of it. The real endpoint - Spark's
Thrift server - is tests/sql_authz's."""

import socket
import ssl
import struct
import threading

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.datalake_fb.platform.plugins.module_utils import thrift_binary as tb
from ansible_collections.datalake_fb.platform.plugins.module_utils.hiveserver2 import (
    HiveServer2,
    HiveServer2Error,
    tls_context,
)
from ansible_collections.datalake_fb.platform.plugins.modules import spark_sql
from tests.support.certificates import self_signed

USERS = {"analyst": "right-password-1"}
GUID = bytes(range(16))
SECRET = b"\xff\x00" * 8


def _certificate(directory):
    key, cert = self_signed(dns_names=(), hours=1)
    (directory / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (directory / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return directory / "cert.pem", directory / "key.pem"


def _status(code=0, message=None):
    return [(1, tb.STRUCT, [(1, tb.I32, code), (5, tb.STRING, message)])]


def _handle(operation_type=None, has_result=None):
    fields = [(1, tb.STRUCT, [(1, tb.STRING, GUID), (2, tb.STRING, SECRET)])]
    if operation_type is not None:
        fields += [(2, tb.I32, operation_type), (3, tb.BOOL, has_result)]
    return fields


class FakeEndpoint:
    """Answers OpenSession, ExecuteStatement (SELECT rows / anything else: no result / REFUSE: an
    error), GetResultSetMetadata, FetchResults in two batches, CloseOperation and CloseSession."""

    def __init__(self, cert, key):
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sessions = []
        self.calls = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._connection, args=(conn,), daemon=True).start()

    @staticmethod
    def _exact(conn, size):
        data = b""
        while len(data) < size:
            chunk = conn.recv(size - len(data))
            if not chunk:
                raise ConnectionError
            data += chunk
        return data

    def _connection(self, raw):
        try:
            conn = self.context.wrap_socket(raw, server_side=True)
            status, size = struct.unpack("!bi", self._exact(conn, 5))
            assert status == 1 and self._exact(conn, size) == b"PLAIN"
            status, size = struct.unpack("!bi", self._exact(conn, 5))
            _, user, password = self._exact(conn, size).split(b"\0")
            if USERS.get(user.decode()) != password.decode():
                message = b"Error validating the login"
                conn.sendall(struct.pack("!bi", 3, len(message)) + message)
                return
            conn.sendall(struct.pack("!bi", 5, 0))
            while True:
                (size,) = struct.unpack("!i", self._exact(conn, 4))
                frame = self._exact(conn, size)
                reader = tb.Reader(_reader(frame), binary=True)
                header = reader._unpack("!I")
                method = reader.read_string().decode()
                seqid = reader._unpack("!i")
                args = reader.read_struct()[1]
                self.calls.append(method)
                body = self._answer(method, args)
                message = tb.encode_message(method, seqid, [(0, tb.STRUCT, body)], mtype=tb.REPLY)
                assert header & 0xFF == tb.CALL
                conn.sendall(struct.pack("!i", len(message)) + message)
        except (ConnectionError, OSError, ssl.SSLError):
            return

    def _answer(self, method, args):
        if method == "OpenSession":
            self.sessions.append(args.get(4, {}))
            if b"refuse" in args.get(4, {}):
                return _status(3, "Failed to open new session: refused setting")
            return [*_status(), (3, tb.STRUCT, _handle())]
        if method == "ExecuteStatement":
            assert args[1][1] == {1: GUID, 2: SECRET}
            statement = args[2].decode()
            if statement.startswith("REFUSE"):
                return _status(3, "Error running query: user analyst may not read x: no grant")
            return [*_status(), (2, tb.STRUCT, _handle(0, statement.startswith("SELECT")))]
        if method == "GetResultSetMetadata":
            names = [(1, tb.STRING, "department"), (1, tb.STRING, "n")]
            columns = [[(1, tb.STRING, n[2])] for n in names]
            return [*_status(), (2, tb.STRUCT, [(1, tb.LIST, (tb.STRUCT, columns))])]
        if method == "FetchResults":
            batch = 1 if self.calls.count("FetchResults") % 2 else 2
            names = ["north", "south"] if batch == 1 else ["west"]
            counts = [200, 100] if batch == 1 else [7]
            nulls = b"\x02" if batch == 1 else b""
            columns = [
                [(7, tb.STRUCT, [(1, tb.LIST, (tb.STRING, names)), (2, tb.STRING, b"")])],
                [(5, tb.STRUCT, [(1, tb.LIST, (tb.I64, counts)), (2, tb.STRING, nulls)])],
            ]
            rowset = [(1, tb.I64, 0), (2, tb.LIST, (tb.STRUCT, [])), (3, tb.LIST, (tb.STRUCT, columns))]
            return [*_status(), (2, tb.BOOL, batch == 1), (3, tb.STRUCT, rowset)]
        return _status()

    def close(self):
        self.listener.close()


def _reader(frame):
    offset = [0]

    def read(n):
        chunk = frame[offset[0] : offset[0] + n]
        offset[0] += len(chunk)
        return chunk

    return read


@pytest.fixture
def endpoint(tmp_path):
    cert, key = _certificate(tmp_path)
    server = FakeEndpoint(cert, key)
    yield server, str(cert)
    server.close()


def test_a_session_runs_statements_and_reads_columnar_rows(endpoint):
    server, ca = endpoint
    with HiveServer2("127.0.0.1", server.port, "analyst", USERS["analyst"], tls_context(ca), timeout=5) as session:
        names, rows = session.execute("SELECT department, count(*) FROM t GROUP BY department")
        assert names == ["department", "n"]
        # the null bitmap's second bit: south's count is NULL; a second batch follows
        assert rows == [["north", 200], ["south", None], ["west", 7]]
        assert session.execute("CREATE TABLE x (id INT)") == ([], [])
        with pytest.raises(HiveServer2Error, match="may not read x"):
            session.execute("REFUSE this")
    assert server.calls[0] == "OpenSession" and server.calls[-1] == "CloseSession"
    assert "CloseOperation" in server.calls


def test_a_wrong_password_and_a_wrong_certificate_are_refused(endpoint, tmp_path):
    server, ca = endpoint
    with pytest.raises(HiveServer2Error, match="login refused: Error validating the login"):
        with HiveServer2("127.0.0.1", server.port, "analyst", "wrong-password-1", tls_context(ca), timeout=5):
            pass
    (tmp_path / "other").mkdir()
    other, _ = _certificate(tmp_path / "other")
    with pytest.raises(tb.ThriftError, match=r"self-signed certificate|certificate verify failed"):
        with HiveServer2("127.0.0.1", server.port, "analyst", USERS["analyst"], tls_context(str(other)), timeout=5):
            pass


def test_session_settings_are_sent_and_a_refused_session_is_an_error(endpoint):
    server, ca = endpoint
    with pytest.raises(HiveServer2Error, match="refused setting"):
        with HiveServer2(
            "127.0.0.1",
            server.port,
            "analyst",
            USERS["analyst"],
            tls_context(ca),
            timeout=5,
            configuration={"refuse": "1"},
        ):
            pass
    assert server.sessions[-1] == {b"refuse": b"1"}


def _params(server, ca, statements, **extra):
    return {
        "host": "127.0.0.1",
        "port": server.port,
        "user": "analyst",
        "password": USERS["analyst"],
        "ca_file": ca,
        "statements": statements,
        "max_rows": 1000,
        "timeout": 5.0,
        "stop_on_error": False,
        **extra,
    }


def test_spark_sql_runs_each_statement_and_reports_each_outcome(run_module, endpoint):
    server, ca = endpoint
    statements = [
        {"sql": "SELECT 1"},
        {"sql": "REFUSE 2"},
        {"sql": "INSERT INTO t VALUES (1)"},
        {"sql": "SELECT 3", "session": {"refuse": "yes"}},
    ]
    outcome, result = run_module(spark_sql.main, _params(server, ca, statements))
    assert outcome == "exit" and result["changed"] is True and result["failed_count"] == 2
    ok = [r["ok"] for r in result["results"]]
    assert ok == [True, False, True, False]
    assert "may not read x" in result["results"][1]["error"]
    assert "refused setting" in result["results"][3]["error"]
    # one shared session for the three plain statements, one of its own for the fourth
    assert server.calls.count("OpenSession") == 2


def test_spark_sql_check_mode_runs_only_reads_and_reports_nothing_changed(run_module, endpoint):
    server, ca = endpoint
    statements = [{"sql": "SELECT 1"}, {"sql": "DROP TABLE t"}]
    outcome, result = run_module(spark_sql.main, _params(server, ca, statements), check_mode=True)
    assert outcome == "exit" and result["changed"] is False
    assert [r["skipped"] for r in result["results"]] == [False, True]


def test_spark_sql_stop_on_error_and_bad_input(run_module, endpoint, tmp_path):
    server, ca = endpoint
    outcome, result = run_module(
        spark_sql.main, _params(server, ca, [{"sql": "REFUSE 1"}, {"sql": "SELECT 2"}], stop_on_error=True)
    )
    assert outcome == "fail" and "may not read x" in result["msg"] and len(result["results"]) == 1
    outcome, result = run_module(spark_sql.main, _params(server, ca, [{"sql": "SELECT 1"}], port=70000))
    assert outcome == "fail" and "port must be 1 to 65535" in result["msg"]
    outcome, result = run_module(spark_sql.main, _params(server, str(tmp_path / "missing.pem"), [{"sql": "SELECT 1"}]))
    assert outcome == "fail" and "cannot read the CA file" in result["msg"]
    assert result.get("password") is None
