"""SIGKILL of the worker holding RQ's scheduler lock: another worker schedules the backoff retries."""
from __future__ import annotations

import os
import signal
import time
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.faults.checks import assert_intact, report, wait_for_runs
from tests.faults.plugin import recorded
from tests.integration.runs.conftest import wait_until
from webapp.clock import utcnow
from webapp.runs import actions
from webapp.runs.models import StepAttempt

BACKOFF = 1
TAKEOVER_BOUND = 15  # a scheduler runs again, and retries due meanwhile fire, this long after the kill
ON_TIME = 2  # once a scheduler runs, a retry starts at most this late
RUNS_BOUND = 60


def scheduler_holder(redis) -> str | None:
    """The name of the worker holding the scheduler lock of the ``default`` queue."""
    name = redis.get("rq:scheduler-lock:default")
    return name and name.decode()


@pytest.mark.timeout(120)
def test_killing_the_scheduler_holder_lets_backoff_retries_fire_on_time_within_15_s(
        db, redis, workers, make_workflow, operator, executions):
    make_workflow({"name": "retry-later", "steps": [
        recorded("work_a", failing_attempts=1, retry={"max": 1, "backoff": [BACKOFF]})]})
    names = workers.start(2)
    holder = workers.processes[names.index(wait_until(lambda: scheduler_holder(redis), timeout=30,
                                                      what="a worker to take the scheduler lock"))]
    os.killpg(holder.pid, signal.SIGKILL)  # the worker and its scheduler thread; an idle horse then exits
    holder.wait(timeout=20)
    killed_at, started = utcnow(), time.monotonic()
    early = [actions.trigger_run("retry-later", {}, operator)[0].id for _ in range(3)]
    finished = wait_for_runs(early, RUNS_BOUND, workers.logs)
    report("scheduler holder SIGKILL: the retries due right after the kill ran within",
           time.monotonic() - started)
    time.sleep(1)
    later = [actions.trigger_run("retry-later", {}, operator)[0].id for _ in range(2)]
    finished += wait_for_runs(later, RUNS_BOUND, workers.logs)
    attempts = {(row.run_id, row.attempt): row for row in db.session.scalars(select(StepAttempt))}
    for run in finished:
        first, second = attempts[(run.id, 1)], attempts[(run.id, 2)]
        due = max(first.finished_at + timedelta(seconds=BACKOFF), killed_at)
        late = (second.started_at - due).total_seconds()
        bound = TAKEOVER_BOUND if run.id in early else ON_TIME
        report(f"scheduler holder SIGKILL: run {run.id}'s retry started after its time by (bound {bound} s)", late)
        assert late <= bound, (run.id, late)
    assert_intact(finished, executions())
