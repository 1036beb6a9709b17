# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""mitogen's linear strategy without its CPU pinning (see DOCUMENTATION)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: mitogen_linear
short_description: mitogen's mitogen_linear strategy, without pinning processes to CPUs
version_added: 1.2.0
description:
  - The C(mitogen_linear) strategy of mitogen (the C(mitogen) package on PyPI, in the controller's virtualenv), with
    mitogen's CPU affinity policy turned off.
  - On a controller with fewer than four CPUs mitogen pins its worker processes, and every process they start (a
    C(command) on the controller, a lookup, C(podman run)), to the same CPUs - on two CPUs to one. Processes started
    that way keep the mask, so containers that a play starts (the lab's nodes) ran on one CPU of two, and a
    three-node cold deploy took 644 s instead of 447 s. Here every process keeps the CPUs it was given.
author: DataLake FB platform engineers
"""

import ansible_mitogen.affinity
import ansible_mitogen.loaders
import ansible_mitogen.strategy

# the base Policy assigns nothing: no process is pinned
ansible_mitogen.affinity.policy = ansible_mitogen.affinity.Policy()

_Linear = ansible_mitogen.loaders.strategy_loader.get("linear", class_only=True)


class StrategyModule(ansible_mitogen.strategy.StrategyMixin, _Linear):
    pass
