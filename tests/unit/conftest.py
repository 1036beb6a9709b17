"""Make the checkout importable as ansible_collections.datalake_fb.platform (make setup links it)."""

import sys
from pathlib import Path

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / ".collections"))
# tests.support: helpers the test trees share
sys.path.insert(0, str(ROOT))


class ModuleExit(Exception):
    """exit_json was called."""


class ModuleFail(Exception):
    """fail_json was called."""


@pytest.fixture
def run_module(monkeypatch):
    """Run a module's main() with the given arguments; return (outcome, result dict)."""

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json(self, **kwargs):
        raise ModuleFail(kwargs)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def run(main, args, check_mode=False, diff=False):
        payload = dict(args, _ansible_check_mode=check_mode, _ansible_diff=diff)
        try:
            with patch_module_args(payload):
                main()
        except ModuleExit as done:
            return "exit", done.args[0]
        except ModuleFail as failed:
            return "fail", failed.args[0]
        raise AssertionError("the module neither exited nor failed")

    return run
