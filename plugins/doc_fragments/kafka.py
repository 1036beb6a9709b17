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
notes:
  - Runs where L(kafka-python,https://pypi.org/project/kafka-python/) 2.1 or newer is importable, for
    example the tools virtualenv of the C(common) role (C(ansible_python_interpreter=/opt/datalake/venv/bin/python)).
"""
