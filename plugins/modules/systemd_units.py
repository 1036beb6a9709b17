#!/usr/bin/python
# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)

from __future__ import annotations

DOCUMENTATION = r"""
---
module: systemd_units
short_description: Enable and start several systemd units in one call, reloading systemd only when needed
version_added: 1.2.0
description:
  - Reads the state of every unit in I(names) with one C(systemctl show), enables those not enabled and starts those
    not running (C(active) or C(activating)) - all the units to start in one C(systemctl start), so systemd starts
    together what nothing orders.
  - C(systemctl daemon-reload) runs only when systemd reports a unit file changed on disk (C(NeedDaemonReload)) or
    does not know a unit yet (a unit file just written), unless I(daemon_reload=always).
  - A unit that stays unknown after the reload, or is masked, fails the module before anything is started.
  - Used by the roles' service task files (common's service_start.yml) instead of one
    M(ansible.builtin.systemd_service) call per unit, each with its own daemon-reload.
author: DataLake FB platform engineers
options:
  names:
    description: The units (C(kafka) or C(kafka.service)), started in one transaction.
    type: list
    elements: str
    required: true
  enabled:
    description: Enable the units at boot too.
    type: bool
    default: true
  daemon_reload:
    description:
      - C(auto) reloads systemd's configuration when a unit needs it (changed or new unit file), C(always) every
        time, C(never) not at all.
    type: str
    choices: [auto, always, never]
    default: auto
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Start the Spark daemons of this node at boot and now
  datalake_fb.platform.systemd_units:
    names: [spark-master, spark-worker, spark-thrift]
  register: spark_started

- name: Gate only when something was started
  ansible.builtin.include_tasks: health.yml
  when: spark_started is changed
"""

RETURN = r"""
daemon_reloaded:
  description: Whether systemd's configuration was reloaded (or would be, in check mode).
  type: bool
  returned: always
enabled:
  description: The units enabled by this run (or that would be, in check mode).
  type: list
  elements: str
  returned: always
started:
  description: The units started by this run (or that would be, in check mode).
  type: list
  elements: str
  returned: always
units:
  description: Each unit's state as read before any change (C(LoadState), C(UnitFileState), C(ActiveState)).
  type: dict
  returned: always
  sample: {"kafka.service": {"LoadState": "loaded", "UnitFileState": "enabled", "ActiveState": "active"}}
"""

from ansible.module_utils.basic import AnsibleModule

PROPERTIES = ("Id", "LoadState", "UnitFileState", "ActiveState", "NeedDaemonReload")
RUNNING = ("active", "activating")
# enabled states that `systemctl enable` would not change
ENABLED = ("enabled", "enabled-runtime", "static", "indirect", "generated", "alias")


def unit_name(name):
    """`kafka` -> `kafka.service`; a name with a unit suffix stays as it is."""
    return name if "." in name.rsplit("@", 1)[-1] else f"{name}.service"


def parse_show(output, names):
    """Split `systemctl show -p ... u1 u2` output (one block per unit, in order) into {unit: {property: value}}."""
    blocks = [block for block in output.strip().split("\n\n") if block.strip()]
    if len(blocks) != len(names):
        raise ValueError(f"systemctl show answered {len(blocks)} blocks for {len(names)} units")
    units = {}
    for name, block in zip(names, blocks, strict=True):
        values = dict(line.split("=", 1) for line in block.splitlines() if "=" in line)
        units[name] = {key: values.get(key, "") for key in PROPERTIES if key != "Id"}
    return units


def plan(units, enabled, daemon_reload):
    """What to do: (reload, problems, to_enable, to_start) from the units' state."""
    reload = daemon_reload == "always" or (
        daemon_reload == "auto"
        and any(state["NeedDaemonReload"] == "yes" or state["LoadState"] == "not-found" for state in units.values())
    )
    problems = [
        f"{name} is masked"
        if state["LoadState"] == "masked" or state["UnitFileState"].startswith("masked")
        else f"{name} is {state['LoadState'] or 'unknown'} to systemd"
        for name, state in units.items()
        if state["LoadState"] != "loaded"
    ]
    to_enable = [name for name, state in units.items() if enabled and state["UnitFileState"] not in ENABLED]
    to_start = [name for name, state in units.items() if state["ActiveState"] not in RUNNING]
    return reload, problems, to_enable, to_start


class Systemctl:
    def __init__(self, module):
        self.module = module
        self.path = module.get_bin_path("systemctl", required=True)

    def run(self, *args):
        rc, out, err = self.module.run_command([self.path, *args])
        if rc != 0:
            self.module.fail_json(msg=f"systemctl {' '.join(args)} failed: {(err or out).strip()}", rc=rc)
        return out

    def show(self, names):
        return parse_show(self.run("show", "--property=" + ",".join(PROPERTIES), *names), names)


def main():
    module = AnsibleModule(
        argument_spec={
            "names": {"type": "list", "elements": "str", "required": True},
            "enabled": {"type": "bool", "default": True},
            "daemon_reload": {"type": "str", "choices": ["auto", "always", "never"], "default": "auto"},
        },
        supports_check_mode=True,
    )
    names = [unit_name(name) for name in module.params["names"]]
    if not names:
        module.fail_json(msg="names: give at least one unit")
    bad = [name for name in names if not name or any(c.isspace() for c in name) or name.startswith("-")]
    if bad:
        module.fail_json(msg=f"names: not unit names: {bad}")
    systemctl = Systemctl(module)
    units = systemctl.show(names)
    reload, _, _, _ = plan(units, module.params["enabled"], module.params["daemon_reload"])
    if reload and not module.check_mode:
        systemctl.run("daemon-reload")
        after = systemctl.show(names)
    else:
        # in check mode a unit not found yet is one a reload would find: judge it as loaded and stopped
        after = {
            name: dict(state, LoadState="loaded") if reload and state["LoadState"] == "not-found" else state
            for name, state in units.items()
        }
    _, problems, to_enable, to_start = plan(after, module.params["enabled"], "never")
    if problems:
        module.fail_json(msg=f"Cannot start: {'; '.join(problems)} (nothing was started)", units=units)
    if not module.check_mode:
        if to_enable:
            systemctl.run("enable", *to_enable)
        if to_start:
            systemctl.run("start", *to_start)
    module.exit_json(
        changed=bool(reload or to_enable or to_start),
        daemon_reloaded=reload,
        enabled=to_enable,
        started=to_start,
        units=units,
    )


if __name__ == "__main__":
    main()
