"""Workers reconcile on their own: a Redis flush mid-run heals without anyone running `flask reconcile`."""
import os

import pytest

from jobs.reconcile_timer import reconcile_if_holder
from tests.integration.runs.conftest import PLUGIN, Workers, wait_for_run, wait_until
from webapp.queues import get_queue
from webapp.runs import actions
from webapp.runs.service import get_run


@pytest.fixture
def reconciling_workers(app, db, redis, test_env, tmp_path):
    pool = Workers({**os.environ, **test_env, "STEP_PLUGINS": PLUGIN, "RECONCILE_INTERVAL_SECONDS": "1"}, tmp_path)
    yield pool
    pool.stop()


def test_only_the_lease_holder_reconciles_and_it_queues_nothing(app, db, redis):
    epoch, report = reconcile_if_holder(30, "host-a:1")
    assert epoch == 1 and report["runs_checked"] == 0
    assert reconcile_if_holder(30, "host-b:2") == (None, None)  # a second worker in the same interval
    assert get_queue("default").get_jobs() == []  # the pass ran in the caller, not behind the steps


def test_the_reconcile_lease_survives_a_redis_flush(app, db, redis):
    assert reconcile_if_holder(30, "host-a:1")[0] == 1
    redis.flushdb()
    assert reconcile_if_holder(30, "host-b:2") == (None, None)
    assert reconcile_if_holder(30, "host-a:1")[0] == 1  # the holder keeps reconciling at its ticks


def test_runs_complete_after_a_redis_flush_with_only_the_workers_timer_reconciling(
        db, redis, reconciling_workers, make_workflow, operator):
    make_workflow({"name": "self-healing", "steps": [
        {"id": "a", "uses": "control.sleep", "with": {"seconds": 1}},
        {"id": "b", "uses": "control.sleep", "needs": ["a"], "with": {"seconds": 0.5}},
        {"id": "c", "uses": "template.render", "needs": ["b"], "with": {"template": "done"}},
    ]})
    reconciling_workers.start(2)
    runs = [actions.trigger_run("self-healing", {}, operator)[0] for _ in range(3)]
    wait_until(lambda: any(get_run(r.id).step("a").status == "running" for r in runs), what="a step to run")
    redis.flushdb()
    finished = [wait_for_run(r.id, timeout=120) for r in runs]
    assert [r.status for r in finished] == ["succeeded"] * 3, reconciling_workers.logs()
