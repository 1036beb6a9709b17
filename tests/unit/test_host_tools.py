"""A fresh controller has only Debian minbase, `git make`, and what scripts/bootstrap.sh installs.

Every command that a controller-side file runs (Makefile recipes, scripts, the lab and
artifact_cache roles, molecule's and the playbooks' localhost tasks, the benchmark) must come from
one of those: minbase, the host packages of scripts/host-packages.txt, or the controller
virtualenv. A new host command that nobody installs fails here instead of on the next fresh machine
(as iptables did: podman only suggests it, and netavark cannot start a node without it).
"""

import ast
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
HOST_PACKAGES = ROOT / "scripts" / "host-packages.txt"

# Commands of a `debootstrap --variant=minbase bookworm` system (Priority: required + apt), as
# listed in such a root file system, plus shell builtins and keywords.
MINBASE = set(
    """
    sh bash env cat cp mv rm ln mkdir rmdir chmod chown mktemp dirname basename cut sort uniq head
    tail tr tee wc date id sleep printf echo test [ true false sha256sum sha1sum grep sed awk find
    xargs tar gzip which dpkg dpkg-query apt-get apt-cache paste readlink realpath stat touch
    timeout nproc uname kill ls install diff cmp getent hostname mount umount mountpoint chroot flock su
    cd set exit export read command case esac if then else elif fi for while do done in return
    local shift trap wait exec eval source . : pwd mapfile type unset
    """.split()
)
# Entry points of the controller virtualenv (requirements.txt), on PATH through make.
VENV = set(
    "python python3 pip ansible ansible-playbook ansible-galaxy ansible-doc ansible-lint molecule pytest "
    "yamllint ruff go".split()  # go: bootstrap links the toolchain it checked or fetched into the venv
)
# Modules that run a host command on the controller.
MODULE_COMMANDS = {
    "containers.podman.podman_container": "podman",
    "containers.podman.podman_network": "podman",
    "containers.podman.podman_image_info": "podman",
    "containers.podman.podman_image": "podman",
    "community.crypto.openssh_keypair": "ssh-keygen",
    "ansible.builtin.git": "git",
}
# Files whose tasks all run on the controller.
CONTROLLER_TASK_DIRS = ["roles/lab/tasks", "roles/artifact_cache/tasks", "molecule/shared"]
WORD = re.compile(r"^[A-Za-z_./\[][A-Za-z0-9_.+/-]*$")
SHELL_SPLIT = re.compile(r"\|\||&&|[;|()`]|\$\(|\bthen\b|\bdo\b|\belse\b|\{")


def host_packages():
    """{command: package} from scripts/host-packages.txt."""
    provided = {}
    for line in HOST_PACKAGES.read_text().splitlines():
        words = line.split("#", 1)[0].split()
        for command in words[1:]:
            provided[command] = words[0]
    return provided


def shell_commands(script):
    """The command words of a shell snippet: the first word of each simple command. Quoted text
    (awk programs, messages), Jinja expressions and the script's own functions are not commands."""
    functions = set(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\(\)", script, re.MULTILINE))
    functions |= set(re.findall(r"<<-?'?([A-Za-z_]+)'?", script))  # here-document delimiters
    commands = set()
    for raw in script.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        line = re.sub(r"\{\{.*?\}\}", "X", raw.split(" #", 1)[0])
        line = re.sub(r"'[^']*'", "''", line)
        line = re.sub(r'"(?:[^"$]|\$\{?[A-Za-z_@\[\]]+\}?)*"', '""', line)
        for part in SHELL_SPLIT.split(line):
            words = [w for w in part.split() if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", w)]
            while words and words[0] in {"!", "sudo", '""', "time"}:
                words = words[1:]
            if (
                words
                and WORD.match(words[0])
                and words[0] not in functions
                and not ("/" in words[0] and not words[0].startswith(".venv/") and (ROOT / words[0]).exists())
            ):
                commands.add(words[0])
    return commands


def makefile_commands():
    recipes = [line.strip().lstrip("@-") for line in (ROOT / "Makefile").read_text().splitlines() if line[:1] == "\t"]
    text = "\n".join(recipes).replace("$(PLAYBOOK)", "ansible-playbook").replace("$$", "$")
    return shell_commands(re.sub(r"\$\([^)]*\)", "", text))


def script_commands():
    commands = set()
    for path in (ROOT / "scripts").glob("*.sh"):
        commands |= shell_commands(path.read_text())
    for path in (ROOT / "scripts").glob("*.py"):
        for call in ast.walk(ast.parse(path.read_text())):
            if isinstance(call, ast.Call) and getattr(call.func, "attr", None) in {"run", "Popen", "check_output"}:
                argv = call.args[0] if call.args else None
                if isinstance(argv, ast.List) and argv.elts and isinstance(argv.elts[0], ast.Constant):
                    commands.add(str(argv.elts[0].value))
    return commands


def task_commands(tasks):
    """Commands run by a list of tasks (blocks included)."""
    commands = set()
    for task in tasks or []:
        if not isinstance(task, dict):
            continue
        for key in ("block", "rescue", "always"):
            commands |= task_commands(task.get(key))
        for module, command in MODULE_COMMANDS.items():
            if module in task:
                commands.add(command)
        args = task.get("ansible.builtin.command") or task.get("ansible.builtin.shell")
        if isinstance(args, dict):
            argv = args.get("argv")
            args = args.get("cmd", "")
            if isinstance(argv, list) and argv and "{{" not in str(argv[0]):
                commands.add(str(argv[0]))
        if isinstance(args, str):
            commands |= shell_commands(args)
    return commands


def localhost_tasks(play_or_tasks):
    """Tasks of a playbook that run on the controller: localhost plays and delegated tasks."""
    tasks = []
    for item in play_or_tasks or []:
        if not isinstance(item, dict):
            continue
        if "hosts" in item:
            body = [t for key in ("pre_tasks", "tasks", "post_tasks") for t in item.get(key) or []]
            on_controller = [t for t in body if t.get("delegate_to", "localhost") == "localhost"]
            tasks += on_controller if item["hosts"] == "localhost" else localhost_tasks(body)
        elif item.get("delegate_to") == "localhost":
            tasks.append(item)
        else:
            tasks += localhost_tasks([t for key in ("block", "rescue", "always") for t in item.get(key) or []])
    return tasks


def controller_commands():
    commands = makefile_commands() | script_commands()
    for directory in CONTROLLER_TASK_DIRS:
        for path in (ROOT / directory).glob("*.yml"):
            commands |= task_commands(yaml.safe_load(path.read_text()))
    for path in [*ROOT.glob("playbooks/*.yml"), *ROOT.glob("molecule/*/*.yml"), ROOT / "site.yml"]:
        commands |= task_commands(localhost_tasks(yaml.safe_load(path.read_text())))
    return commands


def test_every_controller_command_is_installed_by_the_project():
    provided = host_packages()
    unknown = sorted(
        command
        for command in controller_commands()
        if command not in MINBASE | VENV
        and command not in provided
        and Path(command).name not in provided
        and not (command.startswith(".venv/bin/") and Path(command).name in VENV)
    )
    assert not unknown, (
        f"controller commands that a fresh machine lacks: {unknown}; add their Debian package to "
        "scripts/host-packages.txt (or to requirements.txt for Python tools)"
    )


def test_the_scan_finds_the_commands_it_must():
    # the guard is only as good as its scan: these are run today and must be seen
    found = controller_commands()
    for command in ("podman", "debootstrap", "ansible-playbook", "curl", "ssh-keygen", "molecule"):
        assert command in found, f"the scan no longer sees {command}"


def test_the_lab_role_checks_only_tools_that_bootstrap_installs():
    lab_vars = yaml.safe_load((ROOT / "roles/lab/vars/main.yml").read_text())
    packages = set(host_packages().values())
    for tool in lab_vars["lab_host_tools"]:
        assert tool["package"] in packages, f"{tool['path']}: package {tool['package']} is not installed by bootstrap"
        assert tool["why"], f"{tool['path']}: the preflight must say why it is needed"
    assert "iptables" in packages, "netavark needs iptables (a Suggests of podman only)"
