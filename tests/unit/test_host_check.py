"""The shared preflight (common's host_check.yml) refuses port numbers outside 1-65535 before
anything is written (a broker once got port 99999 into server.properties and a crash loop), and
services whose memory does not fit the host. Runs the real tasks on the controller (localhost)
with gathered facts; nothing is changed."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PLAYBOOK = """
- hosts: localhost
  connection: local
  gather_facts: true
  tasks:
    - ansible.builtin.include_role:
        name: datalake_fb.platform.common
        tasks_from: host_check.yml
      vars:
        common_check_ports: {ports}
        common_check_port_owner: nobody
        wiring_host_memory: {memory}
"""


def run_host_check(tmp_path, ports, memory=None):
    playbook = tmp_path / "host_check.yml"
    playbook.write_text(PLAYBOOK.format(ports=json.dumps(ports), memory=json.dumps(memory or {})))
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    result = subprocess.run(
        [str(Path(sys.executable).parent / "ansible-playbook"), str(playbook)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    report = json.loads(result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1])
    failed = [
        outcome["msg"]
        for play in report["plays"]
        for task in play["tasks"]
        for outcome in task["hosts"].values()
        if outcome.get("failed")
    ]
    return result.returncode, report["stats"]["localhost"]["changed"], failed


@pytest.mark.parametrize("ports", [[99999], [0], ["http"]])
def test_out_of_range_ports_are_refused_before_anything_changes(tmp_path, ports):
    returncode, changed, failed = run_host_check(tmp_path, ports)
    assert returncode != 0 and changed == 0 and len(failed) == 1
    assert f"port(s) {ports[0]} are not TCP port numbers (1-65535); nothing was changed" in failed[0]


def test_valid_free_ports_pass(tmp_path):
    returncode, changed, failed = run_host_check(tmp_path, [1, 65535])
    assert returncode == 0 and changed == 0 and failed == []


def test_services_larger_than_the_host_are_refused_with_the_ports_problem_too(tmp_path):
    returncode, changed, failed = run_host_check(tmp_path, [0], {"kafka": "2g", "spark_worker": "100000g"})
    assert returncode != 0 and changed == 0 and len(failed) == 1
    assert "kafka=2g, spark_worker=100000g" in failed[0] and "for the OS: lower them." in failed[0]
    assert "port(s) 0 are not TCP port numbers" in failed[0]
