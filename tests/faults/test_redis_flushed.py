"""Redis FLUSHALL mid-run on the private Redis: the workers' reconciler re-enqueues what Redis forgot."""
from __future__ import annotations

import time

import pytest

from tests.faults.checks import assert_intact, chain, report, wait_for_runs
from tests.integration.runs.conftest import wait_until
from webapp.runs import actions
from webapp.runs.service import get_run

RUNS_BOUND = 90


@pytest.mark.timeout(150)
def test_a_redis_flushall_mid_run_loses_no_run_and_spends_no_retry(
        db, redis, workers, make_workflow, operator, executions):
    make_workflow(chain("forgotten", 1, retry={"max": 2, "backoff": [0]}))
    workers.start(2)
    runs = [actions.trigger_run("forgotten", {}, operator)[0].id for _ in range(6)]
    wait_until(lambda: any(get_run(run).step("work_a").status == "running" for run in runs), what="a step to run")
    redis.flushall()
    flushed = time.monotonic()
    finished = wait_for_runs(runs, RUNS_BOUND, workers.logs)
    report("Redis FLUSHALL: runs finished after the flush in", time.monotonic() - flushed)
    assert_intact(finished, executions(), no_retries=True)
