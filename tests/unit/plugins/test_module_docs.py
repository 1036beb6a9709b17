"""Every module's DOCUMENTATION, EXAMPLES and RETURN parse as YAML (ansible-doc shows nothing for a
module whose documentation does not)."""

import ast
from pathlib import Path

import pytest
import yaml

DOC_BLOCKS = {"DOCUMENTATION", "EXAMPLES", "RETURN"}
MODULES = sorted((Path(__file__).resolve().parents[3] / "plugins" / "modules").glob("*.py"))


def blocks(path):
    tree = ast.parse(path.read_text())
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in DOC_BLOCKS
    }


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.stem)
def test_documentation_parses(path):
    found = blocks(path)
    assert set(found) == DOC_BLOCKS, f"{path.name}: {sorted(found)}"
    documentation = yaml.safe_load(found["DOCUMENTATION"])
    assert documentation["module"] == path.stem and documentation["short_description"]
    assert yaml.safe_load(found["EXAMPLES"]), f"{path.name}: no examples"
    yaml.safe_load(found["RETURN"])
