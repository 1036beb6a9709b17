#!/usr/bin/env python3
"""Profile a playbook run: where its time goes, by role and by task.

Runs ansible-playbook with the JSON callback and writes a summary (JSON, and a table on stdout):
the run's seconds, its task count, per role (from each task's file: roles/<role>/...) the tasks
and the seconds they took on the slowest host, and the slowest tasks. Use it on a lab, e.g.

  scripts/profile_playbook.py --label single-rerun -- site.yml
  scripts/profile_playbook.py --label ha-cold -- -i inventories/ha site.yml

Results: artifacts/results/profile_<label>.json (also each task's runs and seconds summed over the run,
for shared task files that every role includes). The run fails as the playbook does.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ROLE_IN_PATH = re.compile(r"/roles/([^/]+)/")


def seconds(duration):
    start, end = (datetime.fromisoformat(duration[k].replace("Z", "+00:00")) for k in ("start", "end"))
    return (end - start).total_seconds()


def summarize(report, wall_seconds, top):
    per_role = defaultdict(lambda: {"tasks": 0, "seconds": 0.0})
    tasks = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            info = task["task"]
            if not task.get("hosts"):
                continue
            match = ROLE_IN_PATH.search(info.get("path", ""))
            role = match.group(1) if match else "(playbook)"
            took = seconds(info["duration"])
            per_role[role]["tasks"] += 1
            per_role[role]["seconds"] += took
            tasks.append({"task": info["name"], "role": role, "seconds": round(took, 2)})
    tasks.sort(key=lambda t: t["seconds"], reverse=True)
    # the same task run many times (a shared task file included by every role) adds up
    by_name = defaultdict(lambda: {"runs": 0, "seconds": 0.0})
    for task in tasks:
        entry = by_name[(task["role"], task["task"])]
        entry["runs"] += 1
        entry["seconds"] += task["seconds"]
    repeated = [
        {"role": role, "task": name, "runs": v["runs"], "seconds": round(v["seconds"], 2)}
        for (role, name), v in by_name.items()
    ]
    repeated.sort(key=lambda t: t["seconds"], reverse=True)
    roles = {name: {"tasks": v["tasks"], "seconds": round(v["seconds"], 1)} for name, v in per_role.items()}
    return {
        "seconds": round(wall_seconds, 1),
        "tasks": len(tasks),
        "stats": report.get("stats", {}),
        "per_role": dict(sorted(roles.items(), key=lambda item: item[1]["seconds"], reverse=True)),
        "slowest_tasks": tasks[:top],
        "costliest_tasks_summed": repeated[:top],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", required=True, help="names the results file (profile_<label>.json)")
    parser.add_argument("--top", type=int, default=25, help="how many of the slowest tasks to keep")
    parser.add_argument("playbook_args", nargs=argparse.REMAINDER, help="-- then ansible-playbook's arguments")
    args = parser.parse_args()
    playbook_args = args.playbook_args[1:] if args.playbook_args[:1] == ["--"] else args.playbook_args
    # the timer stays: the callbacks list may not be empty, and profile_tasks would print inside the JSON
    env = dict(
        os.environ, ANSIBLE_STDOUT_CALLBACK="ansible.builtin.json", ANSIBLE_CALLBACKS_ENABLED="ansible.posix.timer"
    )
    started = time.monotonic()
    run = subprocess.run(
        ["ansible-playbook", *playbook_args], cwd=ROOT, env=env, text=True, capture_output=True, check=False
    )
    wall = time.monotonic() - started
    # the JSON report is the output's one object; anything after its last brace is other callbacks' text
    report = json.loads(run.stdout[run.stdout.index("{") : run.stdout.rindex("}") + 1])
    summary = dict(summarize(report, wall, args.top), label=args.label, command=playbook_args, rc=run.returncode)
    results = ROOT / "artifacts/results"
    results.mkdir(parents=True, exist_ok=True)
    (results / f"profile_{args.label}.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(f"{args.label}: {summary['seconds']} s, {summary['tasks']} tasks (rc {run.returncode})")
    for role, figures in summary["per_role"].items():
        print(f"  {role:24} {figures['tasks']:5} tasks {figures['seconds']:8.1f} s")
    for task in summary["slowest_tasks"][:10]:
        print(f"  {task['seconds']:7.2f} s  {task['role']}: {task['task']}")
    if run.returncode != 0:
        sys.stderr.write(run.stderr[-3000:])
        raise SystemExit(run.returncode)


if __name__ == "__main__":
    main()
