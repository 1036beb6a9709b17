# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""A small HiveServer2 client (the Spark Thrift server's protocol): TLS, a SASL PLAIN login,
then framed Thrift binary calls - OpenSession, ExecuteStatement, FetchResults, CloseSession -
without a Thrift or SASL library on the managed host. Enough to run statements as a user and
read their rows or their error, one JVM-less session for many statements.
"""

from __future__ import annotations

import ssl
import struct

from ansible_collections.datalake_fb.platform.plugins.module_utils.thrift_binary import (
    BOOL,
    DOUBLE,
    I32,
    I64,
    MAP,
    STRING,
    STRUCT,
    Reader,
    ThriftError,
    connect,
    encode_message,
)

# SASL negotiation status bytes (TSaslTransport)
SASL_START, SASL_OK, SASL_BAD, SASL_ERROR, SASL_COMPLETE = 1, 2, 3, 4, 5
# TProtocolVersion HIVE_CLI_SERVICE_PROTOCOL_V8: columnar result sets
PROTOCOL_V8 = 7
# TStatusCode
SUCCESS_STATUS, SUCCESS_WITH_INFO, STILL_EXECUTING, ERROR_STATUS, INVALID_HANDLE = 0, 1, 2, 3, 4
FETCH_NEXT = 0
# TColumn's union member of string values (the others hold numbers, booleans or bytes as they are)
STRING_COLUMN = 7


class HiveServer2Error(Exception):
    """The server refused the login, the session or a statement; the message is the server's."""


def tls_context(ca_file):
    """TLS that checks the server's certificate and name against ca_file."""
    return ssl.create_default_context(cafile=ca_file)


def _text(value):
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else value


def _status(response, call):
    status = response.get(1, {})
    code = status.get(1, ERROR_STATUS)
    if code not in (SUCCESS_STATUS, SUCCESS_WITH_INFO):
        message = _text(status.get(5)) or "; ".join(_text(m) for m in status.get(2, [])) or f"status {code}"
        raise HiveServer2Error(f"{call}: {message}")
    return response


def _column_values(column):
    """The values of one TColumn, None where its null bitmap says so."""
    for field_id, content in column.items():
        values = content.get(1, [])
        nulls = content.get(2, b"") or b""
        if field_id == STRING_COLUMN:
            values = [_text(v) for v in values]
        return [None if i // 8 < len(nulls) and nulls[i // 8] >> (i % 8) & 1 else v for i, v in enumerate(values)]
    return []


class HiveServer2:
    """One session on a HiveServer2 endpoint over TLS, logged in with SASL PLAIN. configuration is
    what the client sends when it opens the session (the JDBC URL's ?key=value travels as
    set:hiveconf:key)."""

    def __init__(self, host, port, user, password, ssl_context, *, timeout=120.0, configuration=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.user, self._password = user, password
        self.ssl_context = ssl_context
        self.configuration = configuration or {}
        self._sock = None
        self._seqid = 0
        self._session = None

    # --- transport: SASL PLAIN, then frames
    def _send_sasl(self, status, payload):
        self._sock.sendall(struct.pack("!bi", status, len(payload)) + payload)

    def _recv_exact(self, size):
        data = b""
        while len(data) < size:
            chunk = self._sock.recv(size - len(data))
            if not chunk:
                raise ThriftError("the server closed the connection")
            data += chunk
        return data

    def __enter__(self):
        self._sock = connect(self.host, self.port, self.timeout, self.ssl_context)
        try:
            self._login()
            self._open()
        except BaseException:
            self._close_socket()
            raise
        return self

    def _login(self):
        self._send_sasl(SASL_START, b"PLAIN")
        self._send_sasl(SASL_COMPLETE, b"\0" + self.user.encode("utf-8") + b"\0" + self._password.encode("utf-8"))
        status, size = struct.unpack("!bi", self._recv_exact(5))
        payload = self._recv_exact(size) if size > 0 else b""
        if status != SASL_COMPLETE:
            raise HiveServer2Error(f"login refused: {_text(payload) or 'status ' + str(status)}")

    def _call(self, method, args):
        self._seqid += 1
        message = encode_message(method, self._seqid, [(1, STRUCT, args)])
        try:
            self._sock.sendall(struct.pack("!i", len(message)) + message)
            (size,) = struct.unpack("!i", self._recv_exact(4))
            frame = self._recv_exact(size)
        except (OSError, struct.error) as exc:
            raise ThriftError(f"{method} on {self.host}:{self.port}: {exc}") from exc
        offset = [0]

        def read(n):
            chunk = frame[offset[0] : offset[0] + n]
            offset[0] += len(chunk)
            return chunk

        return Reader(read, binary=True).read_reply(method, self._seqid).get(0, {})

    def _open(self):
        configuration = (STRING, STRING, dict(self.configuration)) if self.configuration else None
        response = self._call(
            "OpenSession",
            [(1, I32, PROTOCOL_V8), (2, STRING, self.user), (3, STRING, self._password), (4, MAP, configuration)],
        )
        self._session = _status(response, "open session")[3]

    @staticmethod
    def _handle(handle):
        """A handle struct as received, to send back (guid and secret as bytes)."""
        identifier = handle[1]
        fields = [(1, STRUCT, [(1, STRING, identifier[1]), (2, STRING, identifier[2])])]
        for field_id, ttype in ((2, I32), (3, BOOL), (4, DOUBLE)):
            if field_id in handle:
                fields.append((field_id, ttype, handle[field_id]))
        return fields

    def execute(self, statement, max_rows=1000):
        """Run a statement; return (column names, rows) - rows of a result set, at most max_rows."""
        response = _status(
            self._call(
                "ExecuteStatement",
                [(1, STRUCT, self._handle(self._session)), (2, STRING, statement), (4, BOOL, False)],
            ),
            "statement",
        )
        operation = self._handle(response[2])
        try:
            if not response[2].get(3, False):
                return [], []
            schema = _status(self._call("GetResultSetMetadata", [(1, STRUCT, operation)]), "result metadata")
            names = [_text(column.get(1)) for column in schema.get(2, {}).get(1, [])]
            rows = []
            while len(rows) < max_rows:
                fetched = _status(
                    self._call(
                        "FetchResults",
                        [(1, STRUCT, operation), (2, I32, FETCH_NEXT), (3, I64, min(1000, max_rows - len(rows)))],
                    ),
                    "fetch",
                )
                columns = [_column_values(c) for c in fetched.get(3, {}).get(3, [])]
                batch = list(zip(*columns, strict=True)) if columns else []
                rows.extend(list(row) for row in batch)
                if not batch or not fetched.get(2, False):
                    break
            return names, rows
        finally:
            try:
                self._call("CloseOperation", [(1, STRUCT, operation)])
            except (ThriftError, HiveServer2Error):
                pass

    def _close_socket(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __exit__(self, *exc_info):
        if self._session is not None and self._sock is not None:
            try:
                self._call("CloseSession", [(1, STRUCT, self._handle(self._session))])
            except (ThriftError, HiveServer2Error):
                pass
        self._close_socket()
