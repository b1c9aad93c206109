"""Domain modules know nothing of HTTP: under runs/, workflows/ and steps/, only the api.py and
views.py adapters may import the web layer (webapp.api, webapp.security)."""
import ast
from pathlib import Path

import pytest

WEBAPP = Path(__file__).resolve().parents[2] / "webapp"
WEB_LAYER = ("webapp.api", "webapp.security")
ADAPTERS = {"api.py", "views.py"}
DOMAIN_MODULES = sorted(path for area in ("runs", "workflows", "steps") for path in (WEBAPP / area).glob("*.py")
                        if path.name not in ADAPTERS)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_the_walk_finds_the_domain_modules():
    assert {"states.py", "engine.py", "execution.py", "definition.py", "base.py"} <= {p.name for p in DOMAIN_MODULES}


@pytest.mark.parametrize("path", DOMAIN_MODULES, ids=lambda path: f"{path.parent.name}/{path.name}")
def test_domain_module_does_not_import_the_web_layer(path):
    leaks = {name for name in imported_modules(path) if name.startswith(WEB_LAYER)}
    assert not leaks, f"{path.parent.name}/{path.name} imports {sorted(leaks)}"
