"""Workers ride out a Redis outage: they back off, reconnect and carry on; no running step fails.

A private Redis is shut down (its data saved) for ``OUTAGE_SECONDS`` while one worker runs a step
long enough to cross RQ's 30 s job-monitoring heartbeat inside the outage and the other finishes a
short step during it; more short runs wait in the queue. Before the fix both worker processes
quit ("found an unhandled exception, quitting...") and the waiting runs never moved.
"""
from __future__ import annotations

import time

import pytest
from sqlalchemy import func, select

from tests.integration.runs.conftest import wait_for_run, wait_until
from webapp.runs import actions
from webapp.runs.models import StepAttempt
from webapp.runs.service import get_run

OUTAGE_SECONDS = 31  # RQ's job monitoring heartbeat (every 30 s of a running job) falls inside it
LONG_STEP_SECONDS = 38
SHORT_STEP_SECONDS = 3
WAITING_RUNS = 3
RESUME_BOUND_SECONDS = 10  # the target is 5 s; the bound leaves room for a loaded test machine


def sleeper(name: str, seconds: float) -> dict:
    return {"name": name, "steps": [{"id": "nap", "uses": "control.sleep", "with": {"seconds": seconds}}]}


def running(run_id: int):
    step = get_run(run_id).step("nap")
    return step if step.status == "running" else None


# The default persistent mode rides out the same outage in tests/faults/test_redis_down.py.
@pytest.mark.parametrize("mode", ["fork"])
def test_workers_survive_a_redis_outage_and_every_run_finishes_once(
        db, private_redis, outage_workers, make_workflow, operator, mode):
    make_workflow(sleeper("long-nap", LONG_STEP_SECONDS))
    make_workflow(sleeper("short-nap", SHORT_STEP_SECONDS))
    outage_workers.start(2, ("--mode", mode))
    long_run = actions.trigger_run("long-nap", {}, operator)[0]
    wait_until(lambda: running(long_run.id), what="the long step to start")
    short_runs = [actions.trigger_run("short-nap", {}, operator)[0] for _ in range(1 + WAITING_RUNS)]
    wait_until(lambda: running(short_runs[0].id), what="the first short step to start")

    private_redis.shutdown()
    time.sleep(OUTAGE_SECONDS)
    assert [process.poll() for process in outage_workers.processes] == [None, None], outage_workers.logs()
    private_redis.start()
    back = time.monotonic()

    wait_until(lambda: any(get_run(run.id).step("nap").status != "queued" for run in short_runs[1:]),
               timeout=60, what="a waiting run to start after Redis came back")
    resumed_after = time.monotonic() - back
    finished = [wait_for_run(run.id, timeout=120) for run in [long_run, *short_runs]]

    assert [run.status for run in finished] == ["succeeded"] * len(finished), outage_workers.logs()
    assert [run.step("nap").attempt for run in finished] == [1] * len(finished)  # no retry spent, no re-run
    attempts = db.session.execute(select(StepAttempt.run_id, func.count()).group_by(StepAttempt.run_id)).all()
    assert sorted(count for _, count in attempts) == [1] * len(finished)
    assert [process.poll() for process in outage_workers.processes] == [None, None], outage_workers.logs()
    assert resumed_after < RESUME_BOUND_SECONDS, f"runs resumed {resumed_after:.1f}s after Redis came back"
    print(f"{mode}: the first waiting run started {resumed_after:.1f}s after Redis came back")
