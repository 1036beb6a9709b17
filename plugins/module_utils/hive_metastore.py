# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Read-only Hive Metastore calls over the Thrift binary protocol."""

from __future__ import annotations

import ssl

from ansible_collections.datalake_fb.platform.plugins.module_utils.thrift_binary import ThriftClient, ThriftError

# Field ids of hive_metastore.thrift (stable since Hive 0.x)
DATABASE_FIELDS = {1: "name", 2: "description", 3: "location_uri", 4: "parameters", 6: "owner_name"}
TABLE_FIELDS = {1: "table_name", 2: "db_name", 3: "owner", 9: "parameters", 12: "table_type"}


# The exceptions each call declares, by result field id.
EXCEPTIONS = {
    "get_all_databases": {1: "MetaException"},
    "get_database": {1: "NoSuchObjectException", 2: "MetaException"},
    "get_all_tables": {1: "MetaException"},
    "get_table": {1: "MetaException", 2: "NoSuchObjectException"},
}


def tls_context(ca_file):
    """TLS that checks the metastore's certificate and name against ca_file; None (plaintext) without one."""
    return ssl.create_default_context(cafile=ca_file) if ca_file else None


def _success(result, method):
    if 0 in result:
        return result[0]
    for field_id, exception in result.items():
        message = exception.get(1, "") if isinstance(exception, dict) else exception
        name = EXCEPTIONS.get(method, {}).get(field_id, f"exception field {field_id}")
        raise ThriftError(f"{method}: {name}: {message}")
    raise ThriftError(f"{method}: the metastore returned no result")


def _named(fields, names):
    return {name: fields.get(field_id) for field_id, name in names.items()}


class HiveMetastore:
    """Context manager around one metastore connection (over TLS with an ssl.SSLContext)."""

    def __init__(self, host, port=9083, timeout=10.0, ssl_context=None):
        self._client = ThriftClient(host, port, timeout, ssl_context)

    def __enter__(self):
        self._client.__enter__()
        return self

    def __exit__(self, *exc_info):
        # A polite goodbye, as the Java client says it: the server frees this connection's
        # RawStore instead of logging a broken connection.
        if self._client.connected:
            self._client.send_oneway("shutdown")
        self._client.__exit__(*exc_info)

    def databases(self):
        return sorted(_success(self._client.call("get_all_databases"), "get_all_databases"))

    def database(self, name):
        return _named(_success(self._client.call("get_database", name), "get_database"), DATABASE_FIELDS)

    def tables(self, database):
        return sorted(_success(self._client.call("get_all_tables", database), "get_all_tables"))

    def table(self, database, name):
        return _named(_success(self._client.call("get_table", database, name), "get_table"), TABLE_FIELDS)
