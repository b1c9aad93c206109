"""Costs fixtures: budgets made through the service, and runs whose step rows reservations hang off."""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

import tests.integration.costs.plugin  # noqa: F401  (register test.metered in this process too)
from tests.integration.runs.conftest import PLUGIN, Workers, make_workflow, operator, wait_until  # noqa: F401

COSTS_PLUGINS = f"{PLUGIN},tests.integration.costs.plugin"


@pytest.fixture
def workers(app, db, redis, test_env, tmp_path):
    """Real ``flask worker`` processes that also know ``test.metered``."""
    import os

    pool = Workers({**os.environ, **test_env, "STEP_PLUGINS": COSTS_PLUGINS}, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def admin(make_user):
    return make_user("admin")


@pytest.fixture
def make_budget(db, admin):
    from webapp.costs.service import create_budget

    def make(limit: str, on_exceed: str = "pause", scope: str = "global", scope_id: Any = None,
             period: str = "day", **fields):
        budget = create_budget(scope=scope, scope_id=scope_id, period=period, limit=Decimal(limit),
                               on_exceed=on_exceed, actor=admin, **fields)
        db.session.commit()
        return budget

    return make


@pytest.fixture
def step_rows(db, make_workflow, operator, redis):  # noqa: F811
    """``count`` step rows of one queued run (for reservations; no worker runs them)."""
    from webapp.runs import actions

    def make(count: int):
        make_workflow({"name": "rows", "steps": [
            {"id": f"s{index}", "uses": "template.render", "with": {"template": "x"}} for index in range(count)]})
        run = actions.trigger_run("rows", {}, operator)[0]
        return run.id, [step.id for step in run.steps]

    return make


def in_threads(app, count: int, work: Callable[[int], Any]) -> list[Any]:
    """Run ``work(i)`` in ``count`` threads at once, each in its own app context and session."""
    from webapp.extensions import db

    def one(index: int):
        with app.app_context():
            try:
                return work(index)
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, range(count)))
