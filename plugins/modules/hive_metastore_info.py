#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: hive_metastore_info
short_description: Ask a Hive Metastore for its databases and tables
version_added: 1.0.0
description:
  - Makes real metastore calls (C(get_all_databases), and C(get_database)/C(get_all_tables)/C(get_table)
    when asked) over the Thrift binary protocol, so it doubles as a health check that proves the
    metastore can read its backing database - an open port is not enough.
  - Needs no Thrift library on the managed host. Supports unframed transports without SASL, the
    metastore's default, in plaintext or over TLS (O(ca_file)).
author: DataLake FB platform engineers
options:
  host:
    description: Metastore host.
    type: str
    default: localhost
  port:
    description: Metastore Thrift port.
    type: int
    default: 9083
  timeout:
    description: Seconds to wait for the connection and each reply.
    type: float
    default: 10
  ca_file:
    description:
      - CA certificate to check the metastore's certificate and name (O(host)) against; the calls then go over
        TLS (a metastore with C(hive.metastore.use.SSL) takes nothing else).
      - Without it the calls go in plaintext.
    type: path
  database:
    description: Also describe this database and list its tables.
    type: str
  table:
    description: Also describe this table of O(database) (type, parameters such as Iceberg's C(metadata_location)).
    type: str
extends_documentation_fragment:
  - datalake_fb.platform.info_module
"""

EXAMPLES = r"""
- name: Wait until the metastore answers (over TLS)
  datalake_fb.platform.hive_metastore_info:
    host: metastore1
    ca_file: /etc/datalake/tls/ca.crt
  register: hms
  until: hms is succeeded
  retries: 30
  delay: 2

- name: Read an Iceberg table's current metadata file
  datalake_fb.platform.hive_metastore_info:
    database: sales
    table: vendas
  register: vendas
"""

RETURN = r"""
databases:
  description: Names of all databases.
  returned: always
  type: list
  elements: str
  sample: [default, sales]
database_info:
  description: The database asked for in O(database).
  returned: when O(database) is set
  type: dict
  sample: {name: sales, location_uri: "s3a://warehouse/sales.db", description: null, parameters: {}, owner_name: spark}
tables:
  description: Names of the tables of O(database).
  returned: when O(database) is set
  type: list
  elements: str
table_info:
  description: The table asked for in O(table).
  returned: when O(table) is set
  type: dict
  sample: {table_name: vendas, db_name: sales, table_type: EXTERNAL_TABLE, parameters: {table_type: ICEBERG}}
"""

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.datalake_fb.platform.plugins.module_utils.hive_metastore import HiveMetastore, tls_context
from ansible_collections.datalake_fb.platform.plugins.module_utils.thrift_binary import ThriftError


def run(params, tls=None, metastore_factory=HiveMetastore):
    """Gather what was asked for (over TLS with an ssl.SSLContext); returns the result dict (never changes anything)."""
    result = {"changed": False}
    with metastore_factory(params["host"], params["port"], params["timeout"], tls) as metastore:
        result["databases"] = metastore.databases()
        if params["database"]:
            result["database_info"] = metastore.database(params["database"])
            result["tables"] = metastore.tables(params["database"])
            if params["table"]:
                result["table_info"] = metastore.table(params["database"], params["table"])
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "host": {"type": "str", "default": "localhost"},
            "port": {"type": "int", "default": 9083},
            "timeout": {"type": "float", "default": 10},
            "ca_file": {"type": "path"},
            "database": {"type": "str"},
            "table": {"type": "str"},
        },
        required_by={"table": "database"},
        supports_check_mode=True,
    )
    if not 0 < module.params["port"] < 65536:
        module.fail_json(msg=f"port must be between 1 and 65535, got {module.params['port']}")
    try:
        tls = tls_context(module.params["ca_file"])
    except OSError as exc:  # ssl.SSLError is one too
        module.fail_json(msg=f"cannot use {module.params['ca_file']} as a CA certificate: {exc}")
    try:
        module.exit_json(**run(module.params, tls))
    except ThriftError as exc:
        module.fail_json(msg=f"Hive Metastore {module.params['host']}:{module.params['port']}: {exc}")


if __name__ == "__main__":
    main()
