"""Every role's meta/argument_specs.yml must describe its defaults: the same names, types that
fit the values, the same defaults, a description for each option, role-prefixed names. Ports
and memory sizes shared between services are defined in the wiring role, named after the role
that owns them, and documented by that role's spec."""

from pathlib import Path

import pytest
import yaml

ROLES_DIR = Path(__file__).resolve().parents[2] / "roles"
ROLES = sorted(path.name for path in ROLES_DIR.iterdir() if (path / "tasks").is_dir())
PYTHON_TYPES = {"str": str, "path": str, "int": int, "bool": bool, "list": list, "dict": dict, "float": float}


def load_own_defaults(role):
    defaults = {}
    for path in sorted((ROLES_DIR / role / "defaults").rglob("*.yml")):
        defaults.update(yaml.safe_load(path.read_text()) or {})
    return defaults


WIRING = load_own_defaults("wiring")


def owner_of(name):
    """The role a shared variable is named after: the longest role prefix (kafka_connect_rest_port is
    the kafka_connect role's, not the kafka role's)."""
    owners = [role for role in ROLES if role != "wiring" and name.startswith(f"{role}_")]
    return max(owners, key=len) if owners else None


def load_defaults(role):
    """The role's defaults, with the shared ones the wiring role keeps under its prefix."""
    if role == "wiring":
        return {name: value for name, value in WIRING.items() if name.startswith("wiring_")}
    shared = {name: value for name, value in WIRING.items() if owner_of(name) == role}
    return {**load_own_defaults(role), **shared}


def test_shared_variables_belong_to_a_role_that_documents_them():
    for name in WIRING:
        if name.startswith("wiring_"):
            continue
        owner = owner_of(name)
        assert owner, f"wiring: {name} is named after no role"
        _, options = load_options(owner)
        assert name in options, f"wiring: {name} is not documented in {owner}'s argument_specs"
        assert name not in load_own_defaults(owner), f"{name} is defined in wiring and in {owner}"


@pytest.mark.parametrize("role", [r for r in ROLES if r not in ("wiring", "lab", "artifact_cache")])
def test_service_roles_depend_on_the_wiring(role):
    meta = yaml.safe_load((ROLES_DIR / role / "meta" / "main.yml").read_text())
    names = [dep["role"] if isinstance(dep, dict) else dep for dep in meta.get("dependencies") or []]
    assert "datalake_fb.platform.wiring" in names, f"{role} does not depend on the wiring role"


def iter_options(options, where):
    """Every option with its path, sub-options included."""
    for name, option in (options or {}).items():
        yield f"{where}.{name}", option
        yield from iter_options(option.get("options"), f"{where}.{name}")


@pytest.mark.parametrize("role", ROLES)
def test_sub_options_are_only_given_where_they_are_checked(role):
    specs, _ = load_options(role)
    for entry, spec in specs.items():
        for where, option in iter_options(spec.get("options"), f"{role}:{entry}"):
            if option.get("options"):
                # Ansible checks sub-options of a dict, or of a list of dicts, and ignores them elsewhere.
                assert option.get("type") == "dict" or (
                    option.get("type") == "list" and option.get("elements") == "dict"
                ), f"{where}: options under {option.get('type')}/{option.get('elements')} elements are never checked"


def load_options(role):
    specs = yaml.safe_load((ROLES_DIR / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
    options = {}
    for entry, spec in specs.items():
        for name, option in (spec.get("options") or {}).items():
            options.setdefault(name, []).append((entry, option))
    return specs, options


def templated(value):
    return isinstance(value, str) and "{{" in value


def test_the_sub_option_check_fails_on_unchecked_options(tmp_path, monkeypatch):
    role = tmp_path / "demo" / "meta"
    role.mkdir(parents=True)
    (role / "argument_specs.yml").write_text(
        "argument_specs:\n  main:\n    options:\n      demo_users:\n        type: list\n        elements: str\n"
        "        options:\n          name: {type: str}\n"
    )
    monkeypatch.setattr(__import__(__name__), "ROLES_DIR", tmp_path)
    with pytest.raises(AssertionError, match="never checked"):
        test_sub_options_are_only_given_where_they_are_checked("demo")


@pytest.mark.parametrize("role", ROLES)
def test_role_has_readme_and_main_entry_point(role):
    assert (ROLES_DIR / role / "README.md").is_file(), f"{role} has no README.md"
    specs, _ = load_options(role)
    assert "main" in specs and specs["main"].get("short_description"), f"{role}: main entry point undescribed"


@pytest.mark.parametrize("role", ROLES)
def test_every_default_is_specified_with_a_matching_type_and_default(role):
    defaults = load_defaults(role)
    _, options = load_options(role)
    missing = sorted(set(defaults) - set(options))
    assert not missing, f"{role}: defaults without an argument spec: {missing}"
    for name, value in defaults.items():
        for entry, option in options[name]:
            where = f"{role}:{entry}:{name}"
            kind = option.get("type", "str")
            if not templated(value) and kind != "raw":
                assert isinstance(value, PYTHON_TYPES[kind]), f"{where}: default {value!r} is not a {kind}"
                assert not (kind == "int" and isinstance(value, bool)), f"{where}: a bool is not an int"
            if "default" in option:
                assert option["default"] == value, f"{where}: spec default {option['default']!r} != {value!r}"
            assert not option.get("required"), f"{where}: has a default in defaults/ but is marked required"


@pytest.mark.parametrize("role", ROLES)
def test_options_are_described_prefixed_and_either_defaulted_or_required(role):
    defaults = load_defaults(role)
    _, options = load_options(role)
    for name, entries in options.items():
        assert name.startswith(f"{role}_"), f"{role}: option {name} lacks the role prefix"
        for entry, option in entries:
            where = f"{role}:{entry}:{name}"
            assert option.get("description"), f"{where}: no description"
            # a secret that only one feature needs is documented "Required when ..." and checked in preflight
            conditional = "required when" in str(option["description"]).lower()
            assert name in defaults or option.get("required") or conditional, f"{where}: neither a default nor required"
            if option.get("type") == "list":
                assert option.get("elements"), f"{where}: list without elements"


@pytest.mark.parametrize("role", ROLES)
def test_secrets_are_required_and_hidden(role):
    defaults = load_defaults(role)
    _, options = load_options(role)
    for name, entries in options.items():
        if any(word in name for word in ("password", "secret_key")):
            assert name not in defaults, f"{role}: secret {name} has a default"
            for entry, option in entries:
                assert option.get("no_log"), f"{role}:{entry}:{name} is a secret without no_log"
