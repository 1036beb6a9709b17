"""The lab's preflight names a missing host tool (and why it is needed) before anything changes,
instead of podman's exit code 127 when the first node starts. Runs the real playbook on the
controller with one tool path made missing; it stops in preflight, so no lab is touched."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_missing_host_tool_is_named_with_its_package_and_reason():
    tools = [
        {"path": "/nonexistent/iptables", "package": "iptables", "why": "netavark cannot create the lab network"},
        {"path": sys.executable, "package": "python3", "why": "present, so not reported"},
    ]
    env = dict(os.environ, ANSIBLE_CONFIG=str(ROOT / "ansible.cfg"), ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json")
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    playbook = Path(sys.executable).parent / "ansible-playbook"
    result = subprocess.run(
        [str(playbook), "playbooks/lab.yml", "-e", json.dumps({"lab_host_tools": tools})],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode != 0, result.stdout[-2000:]
    report = json.loads(result.stdout[result.stdout.index("{") : result.stdout.rindex("}") + 1])
    assert report["stats"]["localhost"]["changed"] == 0 and report["stats"]["localhost"]["failures"] == 1
    failed = [
        host_result["msg"]
        for play in report["plays"]
        for task in play["tasks"]
        for host_result in task["hosts"].values()
        if host_result.get("failed")
    ]
    assert len(failed) == 1
    assert "/nonexistent/iptables is missing (iptables): netavark cannot create the lab network" in failed[0]
    assert "apt-get install iptables." in failed[0] and "python3" not in failed[0]
