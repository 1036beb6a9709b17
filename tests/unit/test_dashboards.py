"""The dashboards' JSON (roles/grafana/files/dashboards) is what tools/dashboards.py renders from
its source, and every panel has a Prometheus query on the provisioned datasource."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = sorted((ROOT / "roles" / "grafana" / "files" / "dashboards").glob("*.json"))


def test_rendered_dashboards_match_their_source():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "dashboards.py"), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_every_panel_queries_the_datalake_prometheus():
    assert DASHBOARDS
    for path in DASHBOARDS:
        model = json.loads(path.read_text())
        assert model["datalake"]["jobs"], f"{path.name}: no scrape jobs named"
        for panel in model["panels"]:
            assert panel["datasource"] == {"type": "prometheus", "uid": "datalake-prometheus"}, panel["title"]
            assert [target["expr"] for target in panel["targets"] if target.get("expr")], (
                f"{path.name}: {panel['title']}"
            )
