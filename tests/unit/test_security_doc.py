"""docs/security.md names, for each guarantee, the tests that prove it: every one must exist."""
import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")


def functions_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    return {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}


def test_every_test_the_security_document_cites_exists():
    cited = REFERENCE.findall((ROOT / "docs/security.md").read_text())
    assert len(cited) > 50
    missing = [f"{path}::{name}" for path, name in cited
               if not (ROOT / path).is_file() or name not in functions_in(ROOT / path)]
    assert missing == []
