#!/usr/bin/python3
"""Scheduled Iceberg maintenance on this node (run by iceberg-maintenance.service, as the Spark user).

For each table request in tables.json (written by the iceberg_maintenance role, already checked by
the module's planner) it runs the iceberg_maintenance module's Spark driver with spark-submit, in
apply mode, and writes the run's record (JSON) and Prometheus textfile - the same driver, planner
and metrics as the module. Exits 1 if any table failed, so the unit shows the failure.
"""

import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HOME = Path(__file__).resolve().parent
sys.path.insert(0, str(HOME))
import iceberg_maintenance as planner  # noqa: E402 - installed next to this file


def maintain(settings, request):
    work_dir = tempfile.mkdtemp(prefix="iceberg-maintenance.")
    try:
        for name in planner.DRIVER_FILES:
            shutil.copy(HOME / name, work_dir)
        request = dict(request, commit_retries=settings["commit_retries"])
        Path(work_dir, "request.json").write_text(json.dumps(request), encoding="utf-8")
        command = planner.driver_command(settings["spark_submit"], settings["spark_conf"], work_dir, "apply")
        started = time.monotonic()
        try:
            completed = planner.run_bounded(command, cwd=work_dir, env=None, timeout=settings["timeout"])
            output = Path(work_dir, "result.json")
            failure = {"error": f"spark-submit exited with {completed.returncode}: {completed.stderr[-2000:]}"}
            result = json.loads(output.read_text()) if output.exists() else failure
        except subprocess.TimeoutExpired:
            result = {"error": f"did not finish within {settings['timeout']} s"}
        result["duration_seconds"] = round(time.monotonic() - started, 2)
        ok = not (result.get("error") or result.get("input_error"))
        return planner.write_metrics(
            request,
            result,
            ok,
            now=int(time.time()),
            json_dir=settings["state_dir"],
            textfile_dir=settings.get("textfile_dir"),
        )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


def main():
    settings = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    failed = 0
    for request in settings["tables"]:
        report = maintain(settings, request)
        before, after = report.get("before") or {}, report.get("after") or {}
        print(
            f"{report['table']}: {'ok' if report['ok'] else 'FAILED'} in {report['duration_seconds']} s; "
            f"data files {before.get('data_files')} -> {after.get('data_files')}; "
            f"position delete files {before.get('position_delete_files')} -> {after.get('position_delete_files')}; "
            f"actions {sorted(report['actions'])}" + (f"; error: {report['error']}" if report["error"] else ""),
            flush=True,
        )
        failed += not report["ok"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
