"""``flask decompositions import``: the shipped example plans, a second import changes nothing, bad files exit 1."""
from __future__ import annotations

import json

from tests.conftest import ROOT

EXAMPLE = ROOT / "examples" / "regional-digest.decomposition.json"


def test_the_shipped_example_is_planned_once_however_often_it_is_imported(db, flask_cli):
    first = flask_cli("decompositions", "import", str(EXAMPLE))
    assert first.returncode == 0, first.stderr
    assert "5 tasks, 2 levels" in first.stdout
    again = flask_cli("decompositions", "import", str(EXAMPLE))
    assert again.returncode == 0 and "already plans this goal" in again.stdout


def test_an_invalid_file_prints_every_problem_and_exits_1(db, flask_cli, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"goal": "g", "strategy": "explicit",
                                "input": {"tasks": [{"id": "a", "uses": "nope"}, {"id": "a"}]}}))
    result = flask_cli("decompositions", "import", str(path))
    assert result.returncode == 1
    assert "task a, uses: unknown step kind 'nope'" in result.stderr and "duplicate task id" in result.stderr
