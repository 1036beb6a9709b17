"""kafka_user and the SASL login of the kafka_* modules: the client-properties parser, how a login
is chosen, the ACL plan, and the module against a fake admin client with kafka-python's interface
(credentials and ACLs kept in memory)."""

import pytest
from kafka.admin import ScramMechanism

from ansible_collections.datalake_fb.platform.plugins.module_utils import kafka_admin
from ansible_collections.datalake_fb.platform.plugins.module_utils.kafka_admin import (
    acl_entries,
    client_properties,
    connection_options,
    plan_acls,
)
from ansible_collections.datalake_fb.platform.plugins.modules import kafka_user

ADMIN_FILE = (
    "# written by the kafka role\n"
    "security.protocol=SASL_PLAINTEXT\n"
    "sasl.mechanism=SCRAM-SHA-512\n"
    "sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required "
    'username="admin" password="s3cr3t-Pa55w0rd!";\n'
)
PASSWORD = "Kx9-long-enough-pw"


def test_client_properties_give_kafka_pythons_login():
    assert client_properties(ADMIN_FILE) == {
        "security_protocol": "SASL_PLAINTEXT",
        "sasl_mechanism": "SCRAM-SHA-512",
        "sasl_plain_username": "admin",
        "sasl_plain_password": "s3cr3t-Pa55w0rd!",
    }
    assert client_properties("# nothing\n\nsecurity.protocol = PLAINTEXT\n") == {"security_protocol": "PLAINTEXT"}


def test_the_login_is_the_parameters_then_the_file_then_none(tmp_path):
    config = tmp_path / "admin-client.properties"
    config.write_text(ADMIN_FILE)
    given = connection_options({"sasl_username": "ops", "sasl_password": "pw", "client_config": str(config)})
    assert given["sasl_plain_username"] == "ops" and given["sasl_mechanism"] == "SCRAM-SHA-512"
    assert connection_options({"client_config": str(config)})["sasl_plain_username"] == "admin"
    assert connection_options({"client_config": str(tmp_path / "missing")}) == {}


def test_acl_entries_expand_operations_and_name_the_cluster():
    entries = acl_entries(
        [
            {"resource_type": "topic", "name": "cdc.", "pattern_type": "prefixed", "operations": ["write", "describe"]},
            {"resource_type": "cluster", "name": None, "operations": ["idempotent_write"], "host": None},
        ]
    )
    assert entries == {
        ("topic", "cdc.", "prefixed", "write", "allow", "*"),
        ("topic", "cdc.", "prefixed", "describe", "allow", "*"),
        ("cluster", "kafka-cluster", "literal", "idempotent_write", "allow", "*"),
    }


def test_acl_plan_adds_the_missing_and_removes_the_unlisted():
    keep = ("topic", "a", "literal", "read", "allow", "*")
    stale = ("topic", "b", "literal", "write", "allow", "*")
    new = ("group", "g", "literal", "read", "allow", "*")
    assert plan_acls({keep, stale}, {keep, new}) == ([new], [stale])
    assert plan_acls({keep}, {keep}) == ([], [])


class FakeAdmin:
    """The user and ACL calls of kafka-python's KafkaAdminClient, over in-memory state."""

    def __init__(self):
        self.credentials = {}  # user -> {mechanism name: password}
        self.acls = set()  # kafka-python ACL objects
        self.calls = []

    def describe_user_scram_credentials(self, users):
        return {
            user: {
                "error": None,
                "credential_infos": [
                    {"mechanism": ScramMechanism[m.replace("-", "_")], "iterations": 8192}
                    for m in self.credentials.get(user, {})
                ],
            }
            for user in users
        }

    def alter_user_scram_credentials(self, alterations):
        self.calls.append(("credentials", alterations))
        for change in alterations:
            mechanisms = self.credentials.setdefault(change.user, {})
            name = change.mechanism.name.replace("_", "-")
            if hasattr(change, "salted_password"):
                mechanisms[name] = change.salted_password
            else:
                mechanisms.pop(name, None)
        return {change.user: None for change in alterations}

    def describe_acls(self, acl_filter):
        return [acl for acl in self.acls if acl.principal == acl_filter.principal], None

    def create_acls(self, acls):
        self.calls.append(("create_acls", len(acls)))
        self.acls.update(acls)
        return {"succeeded": acls, "failed": []}

    def delete_acls(self, filters):
        self.calls.append(("delete_acls", len(filters)))
        self.acls.difference_update(filters)
        return [(f, [f], None) for f in filters]

    def close(self):
        pass


@pytest.fixture
def admin(monkeypatch):
    fake = FakeAdmin()
    monkeypatch.setattr(kafka_admin, "KAFKA_IMPORT_ERROR", None)
    monkeypatch.setattr(kafka_user, "KAFKA_IMPORT_ERROR", None)
    monkeypatch.setattr(kafka_user, "admin_client", lambda params: fake)
    # a login works when the password is the one last stored (the fake keeps the salted hash)
    fake.logins = []

    def login_works(params, servers):
        fake.logins.append(params["name"])
        stored = fake.credentials.get(params["name"], {}).get(params["mechanism"])
        return stored is not None and fake.last_password.get(params["name"]) == params["password"]

    fake.last_password = {}
    original = fake.alter_user_scram_credentials

    def remember(alterations):
        for change in alterations:
            fake.last_password[change.user] = fake.pending_password
        return original(alterations)

    fake.alter_user_scram_credentials = remember
    monkeypatch.setattr(kafka_user, "login_works", login_works)
    return fake


ACLS = [
    {"resource_type": "topic", "name": "*", "operations": ["write", "describe"]},
    {"resource_type": "group", "name": "app", "pattern_type": "prefixed", "operations": ["read"]},
]


def run_user(run_module, admin, password=PASSWORD, **kwargs):
    admin.pending_password = password
    args = {"name": "app", "password": password, "acls": ACLS}
    args.update(kwargs)
    return run_module(kafka_user.main, args, check_mode=kwargs.pop("_check", False), diff=True)


def test_user_is_created_with_its_acls_then_unchanged(admin, run_module):
    outcome, result = run_user(run_module, admin)
    assert outcome == "exit" and result["changed"] and result["credential"] == "created"
    assert len(result["acls_added"]) == 3 and result["acls_removed"] == []
    assert "SCRAM-SHA-512" in admin.credentials["app"]
    assert PASSWORD not in str(result)
    outcome, result = run_user(run_module, admin)
    assert outcome == "exit" and not result["changed"] and result["credential"] == "unchanged"
    assert admin.logins == ["app"]


def test_a_new_password_is_stored_and_unlisted_acls_are_removed(admin, run_module):
    run_user(run_module, admin)
    outcome, result = run_user(run_module, admin, password="another-long-pw-1", acls=ACLS[:1])
    assert outcome == "exit" and result["changed"] and result["credential"] == "updated"
    assert result["acls_removed"] == [["group", "app", "prefixed", "read", "allow", "*"]]
    assert len(admin.acls) == 2


def test_check_mode_changes_nothing(admin, run_module):
    admin.pending_password = PASSWORD
    outcome, result = run_module(kafka_user.main, {"name": "app", "password": PASSWORD, "acls": ACLS}, check_mode=True)
    assert outcome == "exit" and result["changed"] and result["credential"] == "created"
    assert admin.calls == [] and admin.credentials == {}


def test_absent_deletes_the_credential_and_every_acl(admin, run_module):
    run_user(run_module, admin)
    outcome, result = run_module(kafka_user.main, {"name": "app", "state": "absent"})
    assert outcome == "exit" and result["changed"] and result["credential"] == "deleted"
    assert admin.credentials["app"] == {} and admin.acls == set()
    outcome, result = run_module(kafka_user.main, {"name": "app", "state": "absent"})
    assert outcome == "exit" and not result["changed"] and result["credential"] == "absent"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"name": "bad name", "password": PASSWORD}, "must be 1-64 letters"),
        ({"name": "app", "password": "short"}, "at least 12 characters"),
        ({"name": "app", "password": 'has"quote-long-enough'}, "without"),
        ({"name": "app", "password": PASSWORD, "iterations": 100}, "iterations must be 4096-16384"),
        (
            {"name": "app", "password": PASSWORD, "acls": [{"resource_type": "topic", "operations": ["read"]}]},
            "needs its name",
        ),
        ({"name": "app"}, "password"),
    ],
)
def test_bad_input_is_refused_before_any_call(admin, run_module, args, message):
    outcome, result = run_module(kafka_user.main, args)
    assert outcome == "fail" and message in result["msg"]
    assert admin.calls == []
