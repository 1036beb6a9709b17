"""The zookeeper role's zoo.cfg check (roles/zookeeper/files/check_zoo_cfg.py)."""

import importlib.util
from pathlib import Path

SPEC = importlib.util.spec_from_file_location(
    "check_zoo_cfg", Path(__file__).resolve().parents[2] / "roles/zookeeper/files/check_zoo_cfg.py"
)
check = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(check)

GOOD = "tickTime=2000\ninitLimit=10\nsyncLimit=5\ndataDir=/var/lib/zookeeper\nclientPort=2181\n"


def test_a_good_ensemble_passes():
    assert check.problems(GOOD + "server.1=a:2888:3888\nserver.2=b:2888:3888\n") == []


def test_bad_lines_are_named():
    errors = check.problems(GOOD.replace("2181", "x") + "server.1=a:2888\nserver.1=b:2888:3888\njunk\n")
    assert "line 5: clientPort must be a number" in errors
    assert "line 6: server.1 must be host:peer-port:election-port" in errors
    assert "line 8: not key=value" in errors
    assert "server.1 given twice (lines [6, 7])" in errors
    assert check.problems("tickTime=1\n")[-1] == "missing syncLimit"
