"""SIGKILL of a worker and its work horse (both process groups) with 10 runs in flight."""
from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from jobs.reconcile_timer import LEASE_INTERVALS
from tests.faults.checks import assert_intact, chain, report, tail, wait_for_runs
from tests.faults.conftest import RECONCILE_INTERVAL
from tests.integration.runs.conftest import horse_pid, wait_until
from webapp.clock import utcnow
from webapp.runs import actions
from webapp.runs.models import StepAttempt, StepRun

# A running step has no grace: a dead horse is found at the next pass of the reconcile lease's
# holder, one interval later, or 2.5 intervals if the killed worker held the lease (it lapses
# after LEASE_INTERVALS and a survivor's tick comes at most one interval later); + 2 s for the
# pass itself on a loaded host.
DETECTION_BOUND = (LEASE_INTERVALS + 1) * RECONCILE_INTERVAL + 2
RUNS_BOUND = 120


def parent_pid(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as stat:
        return int(stat.read().rpartition(")")[2].split()[1])


@pytest.mark.timeout(180)
def test_killing_a_worker_and_its_horse_loses_no_run_and_the_crash_is_found_within_its_bound(
        db, workers, make_workflow, operator, executions):
    make_workflow(chain("crash-victims", 3, retry={"max": 1, "backoff": [0]}))
    workers.start(2)
    runs = [actions.trigger_run("crash-victims", {}, operator)[0].id for _ in range(10)]
    victim = wait_until(lambda: db.session.scalars(select(StepRun).where(
        StepRun.step_key == "work_a", StepRun.status == "running")).first(), what="a step to run")
    horse = horse_pid(victim)
    worker = next(process for process in workers.processes if process.pid == parent_pid(horse))
    killed_at = utcnow()
    started = time.monotonic()
    workers.kill(worker, horse)

    crashed = wait_until(lambda: db.session.scalars(select(StepAttempt).where(
        StepAttempt.step_run_id == victim.id, StepAttempt.status == "crashed")).first(),
        timeout=DETECTION_BOUND + 30, what="the crash to be detected")
    detected = (crashed.finished_at - killed_at).total_seconds()
    report(f"worker SIGKILL: crash detected after (bound {DETECTION_BOUND} s)", detected)
    finished = wait_for_runs(runs, RUNS_BOUND, workers.logs)
    report("worker SIGKILL: 10 runs finished after the kill in", time.monotonic() - started)
    assert detected <= DETECTION_BOUND, tail(workers.logs())
    assert_intact(finished, executions())
    assert db.session.get(StepRun, victim.id).attempt == 2
