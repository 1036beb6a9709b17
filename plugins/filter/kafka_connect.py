# Copyright: DataLake FB platform engineers
# Apache License 2.0 (see LICENSE)
"""datalake_fb.platform filters for Kafka Connect's REST answers."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def connect_not_running(statuses):
    """What is not RUNNING in GET /connectors?expand=status: one line per connector or task."""
    if not isinstance(statuses, dict):
        raise AnsibleFilterError("connect_not_running expects the JSON object of GET /connectors?expand=status")
    problems = []
    for name in sorted(statuses):
        status = (statuses[name] or {}).get("status") or {}
        connector = (status.get("connector") or {}).get("state", "UNKNOWN")
        if connector != "RUNNING":
            problems.append(f"{name}: connector {connector}")
        tasks = status.get("tasks") or []
        if not tasks:
            problems.append(f"{name}: no task")
        for task in tasks:
            state = task.get("state", "UNKNOWN")
            if state != "RUNNING":
                problems.append(f"{name} task {task.get('id')}: {state} on {task.get('worker_id', '?')}")
    return problems


class FilterModule:
    """datalake_fb.platform filters for Kafka Connect."""

    def filters(self):
        return {"connect_not_running": connect_not_running}
