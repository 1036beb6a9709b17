# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""Connection options shared by the kafka_* modules."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
requirements:
  - kafka-python >= 2.1
options:
  bootstrap_servers:
    description: Brokers to bootstrap from, as C(host:port).
    type: list
    elements: str
    default: [localhost:9092]
  timeout:
    description: Seconds to wait for each request.
    type: int
    default: 30
  client_id:
    description: Client id shown in the brokers' logs.
    type: str
    default: datalake-fb-ansible
  sasl_username:
    description:
      - SASL login to use instead of the one in O(client_config).
    type: str
  sasl_password:
    description: Password of O(sasl_username).
    type: str
  sasl_mechanism:
    description: SASL mechanism of O(sasl_username).
    type: str
    choices: [SCRAM-SHA-512, SCRAM-SHA-256, PLAIN]
    default: SCRAM-SHA-512
  ssl_cafile:
    description:
      - CA certificate (PEM) to check the brokers' TLS certificates with; with O(sasl_username), the login goes
        over TLS (SASL_SSL).
    type: path
  client_config:
    description:
      - Kafka client properties (the format of Kafka's C(--command-config)) whose C(security.protocol),
        C(sasl.mechanism) and C(sasl.jaas.config) login are used when O(sasl_username) is not given and the file exists.
      - The C(kafka) role writes the admin's login there on every broker (root only), so a module run on a broker
        node as root logs in as the admin without being given a password. Without either, the client connects
        without a login (a PLAINTEXT listener).
    type: path
    default: /etc/kafka/admin-client.properties
notes:
  - Runs where L(kafka-python,https://pypi.org/project/kafka-python/) 2.1 or newer is importable, for
    example the tools virtualenv of the C(common) role (C(ansible_python_interpreter=/opt/datalake/venv/bin/python)).
"""
