# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""A minimal Thrift binary-protocol client (unframed, no SASL, plaintext or TLS), enough for
read-only Hive Metastore calls without a Thrift library on the managed host; and the encoding and
decoding of any Thrift value, which the HiveServer2 client (hiveserver2.py) frames itself.

Every Thrift type is parsed generically, so a struct becomes a {field_id: value} dict. To encode,
a struct is a list of (field_id, type, value) triples, a map (key_type, value_type, dict) and a
list or set (element_type, items).
"""

from __future__ import annotations

import socket
import ssl
import struct

VERSION_1 = 0x80010000
CALL, REPLY, EXCEPTION, ONEWAY = 1, 2, 3, 4

STOP, BOOL, BYTE, DOUBLE, I16, I32, I64, STRING, STRUCT, MAP, SET, LIST = 0, 2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15


SCALAR_FORMATS = {BOOL: "!b", BYTE: "!b", DOUBLE: "!d", I16: "!h", I32: "!i", I64: "!q"}


class ThriftError(Exception):
    """A transport, protocol or application error; the message says which."""


def encode_string(value):
    data = value.encode("utf-8")
    return struct.pack("!i", len(data)) + data


def encode_call(method, seqid, string_args=(), mtype=CALL):
    """A CALL (or ONEWAY) message whose argument struct holds only string fields, numbered from 1."""
    out = struct.pack("!I", VERSION_1 | mtype) + encode_string(method) + struct.pack("!i", seqid)
    for field_id, value in enumerate(string_args, start=1):
        out += struct.pack("!bh", STRING, field_id) + encode_string(value)
    return out + struct.pack("!b", STOP)


def encode_value(ttype, value):
    if ttype in SCALAR_FORMATS:
        return struct.pack(SCALAR_FORMATS[ttype], int(value) if ttype != DOUBLE else value)
    if ttype == STRING:
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        return struct.pack("!i", len(data)) + data
    if ttype == STRUCT:
        return encode_struct(value)
    if ttype == MAP:
        key_type, value_type, items = value
        out = struct.pack("!bbi", key_type, value_type, len(items))
        for key, item in items.items():
            out += encode_value(key_type, key) + encode_value(value_type, item)
        return out
    if ttype in {SET, LIST}:
        elem_type, items = value
        return struct.pack("!bi", elem_type, len(items)) + b"".join(encode_value(elem_type, item) for item in items)
    raise ThriftError(f"cannot encode Thrift type {ttype}")


def encode_struct(fields):
    """fields: (field_id, type, value) triples; a None value is left out (an unset optional field)."""
    out = b""
    for field_id, ttype, value in fields:
        if value is not None:
            out += struct.pack("!bh", ttype, field_id) + encode_value(ttype, value)
    return out + struct.pack("!b", STOP)


def encode_message(method, seqid, args, mtype=CALL):
    """A message whose argument struct is given as (field_id, type, value) triples."""
    return struct.pack("!I", VERSION_1 | mtype) + encode_string(method) + struct.pack("!i", seqid) + encode_struct(args)


class Reader:
    """Decodes Thrift binary values from a byte source with a read(n) method; with binary=True,
    strings are returned as bytes (Thrift's binary and string types share one encoding)."""

    def __init__(self, read, binary=False):
        self._read = read
        self._binary = binary

    def _exact(self, size):
        data = b""
        while len(data) < size:
            chunk = self._read(size - len(data))
            if not chunk:
                raise ThriftError("connection closed in the middle of a reply")
            data += chunk
        return data

    def _unpack(self, fmt):
        return struct.unpack(fmt, self._exact(struct.calcsize(fmt)))[0]

    def read_string(self):
        size = self._unpack("!i")
        if size < 0 or size > 64 * 1024 * 1024:
            raise ThriftError(f"implausible string length {size}: not a Thrift binary reply")
        data = self._exact(size)
        return data if self._binary else data.decode("utf-8", errors="replace")

    def read_value(self, ttype):
        if ttype in SCALAR_FORMATS:
            value = self._unpack(SCALAR_FORMATS[ttype])
            return value != 0 if ttype == BOOL else value
        if ttype == STRING:
            return self.read_string()
        if ttype == STRUCT:
            return self.read_struct()
        if ttype == MAP:
            key_type, value_type, size = self._unpack("!b"), self._unpack("!b"), self._unpack("!i")
            return {self.read_value(key_type): self.read_value(value_type) for _ in range(size)}
        if ttype in {SET, LIST}:
            elem_type, size = self._unpack("!b"), self._unpack("!i")
            return [self.read_value(elem_type) for _ in range(size)]
        raise ThriftError(f"unknown Thrift type {ttype}")

    def read_struct(self):
        fields = {}
        while True:
            ttype = self._unpack("!b")
            if ttype == STOP:
                return fields
            field_id = self._unpack("!h")
            fields[field_id] = self.read_value(ttype)

    def read_reply(self, method, seqid):
        """Return the result struct of a REPLY, raising ThriftError for an EXCEPTION message."""
        header = self._unpack("!I")
        if header & 0xFFFF0000 != VERSION_1:
            raise ThriftError(f"bad Thrift message header {header:#x}: is this a Thrift binary endpoint?")
        mtype = header & 0xFF
        name = self.read_string()
        name = name.decode("utf-8", errors="replace") if isinstance(name, bytes) else name
        reply_seqid = self._unpack("!i")
        body = self.read_struct()
        if mtype == EXCEPTION:
            message = body.get(1, "no message")
            message = message.decode("utf-8", errors="replace") if isinstance(message, bytes) else message
            raise ThriftError(f"{name} failed on the server: {message}")
        if mtype != REPLY or name != method or reply_seqid != seqid:
            raise ThriftError(f"unexpected reply {name!r} (type {mtype}, seqid {reply_seqid}) to {method!r}")
        return body


def connect(host, port, timeout, ssl_context=None):
    """A TCP connection, over TLS when given an ssl.SSLContext (the server's name checked as the
    context says: the host connected to); a ThriftError that says which step failed."""
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except OSError as exc:
        raise ThriftError(f"cannot connect to {host}:{port}: {exc}") from exc
    if ssl_context is None:
        return sock
    try:
        return ssl_context.wrap_socket(sock, server_hostname=host)
    except ssl.SSLCertVerificationError as exc:
        sock.close()
        raise ThriftError(f"TLS with {host}:{port}: {exc.verify_message}") from exc
    except OSError as exc:
        sock.close()
        raise ThriftError(f"TLS with {host}:{port}: {exc}") from exc


class ThriftClient:
    """One TCP connection to a Thrift binary service; over TLS when given an ssl.SSLContext (the
    server's name checked as the context says: the host connected to)."""

    def __init__(self, host, port, timeout=10.0, ssl_context=None):
        self.host, self.port, self.timeout = host, port, timeout
        self.ssl_context = ssl_context
        self._sock = None
        self._seqid = 0

    def __enter__(self):
        self._sock = connect(self.host, self.port, self.timeout, self.ssl_context)
        return self

    @property
    def connected(self):
        return self._sock is not None

    def __exit__(self, *exc_info):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def call(self, method, *string_args):
        """Call a method taking string arguments; return its result struct ({0: success, n: exception})."""
        self._seqid += 1
        try:
            self._sock.sendall(encode_call(method, self._seqid, string_args))
            return Reader(self._sock.recv).read_reply(method, self._seqid)
        except (OSError, struct.error) as exc:
            raise ThriftError(f"{method} on {self.host}:{self.port}: {exc}") from exc

    def send_oneway(self, method):
        """Send a one-way call (no reply is read); errors are ignored, as for a goodbye."""
        self._seqid += 1
        try:
            self._sock.sendall(encode_call(method, self._seqid, mtype=ONEWAY))
        except OSError:
            pass
