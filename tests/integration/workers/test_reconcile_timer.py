"""The lease holder reconciles in its own timer thread: a crash is found within one interval (plus
the pass) however many steps wait in the queue, and ticks never pile up.

Before the fix the timer enqueued the reconcile job on the step queue, behind the backlog: here
eight queued 10 s steps on the holder's queue would have delayed the crash's detection by a minute.
"""
from __future__ import annotations

import os
import socket
import time
from datetime import datetime
from itertools import pairwise

import pytest
from sqlalchemy import select

from jobs.reconcile_timer import LEASE_NAME
from tests.integration.runs.conftest import PLUGIN, Workers, horse_pid, wait_until
from webapp import leases
from webapp.queues import get_queue
from webapp.runs import actions
from webapp.runs.models import StepRun
from webapp.runs.reconcile import reconcile
from webapp.runs.service import get_run

INTERVAL = 2
BACKLOG = 8
# Documented bound: one interval plus the pass itself; the margin is for a loaded test machine.
DETECTION_BOUND_SECONDS = 2 * INTERVAL + 3
LOG_TIME = "%Y-%m-%d %H:%M:%S,%f"


@pytest.fixture
def reconciling_workers(app, db, redis, test_env, tmp_path):
    pool = Workers({**os.environ, **test_env, "STEP_PLUGINS": PLUGIN,
                    "RECONCILE_INTERVAL_SECONDS": str(INTERVAL)}, tmp_path)
    yield pool
    pool.stop()


def nap(name: str, seconds: float, **extra) -> dict:
    return {"name": name, **extra, "steps": [{"id": "nap", "uses": "control.sleep", "with": {"seconds": seconds}}]}


def lease_holder(db) -> str | None:
    db.session.rollback()
    return db.session.scalar(select(leases.leases.c.holder).where(leases.leases.c.name == LEASE_NAME))


def pass_times(log: str) -> list[datetime]:
    return [datetime.strptime(line[:23], LOG_TIME) for line in log.splitlines() if " reconciled: " in line]


def test_a_crash_is_detected_within_the_bound_behind_a_backlog_and_ticks_do_not_pile_up(
        db, redis, reconciling_workers, make_workflow, operator):
    make_workflow(nap("victim", 120, queue="victim"))
    make_workflow(nap("backlog", 10))
    reconciling_workers.start(1)  # the "default" queue: holds the lease and gets the backlog
    holder = f"{socket.gethostname()}:{reconciling_workers.processes[0].pid}"
    wait_until(lambda: lease_holder(db) == holder, timeout=30, what="the first worker to take the lease")
    reconciling_workers.start(1, ("victim",))
    victim = actions.trigger_run("victim", {}, operator)[0]
    running = wait_until(lambda: (step := get_run(victim.id).step("nap")).status == "running" and step,
                         what="the victim's step to run")
    backlog = [actions.trigger_run("backlog", {}, operator)[0] for _ in range(BACKLOG)]
    wait_until(lambda: get_run(backlog[0].id).step("nap").status == "running", what="the backlog to start")

    reconciling_workers.kill(reconciling_workers.processes[1], horse_pid(running))
    killed = time.monotonic()
    wait_until(lambda: get_run(victim.id).step("nap").status == "crashed", timeout=90, what="the crash to be found")
    detected_after = time.monotonic() - killed

    assert detected_after < DETECTION_BOUND_SECONDS, reconciling_workers.logs()
    waiting = get_queue("default").get_jobs()
    assert len(waiting) >= BACKLOG - 2
    assert {job.func_name for job in waiting} == {"jobs.steps.execute_step"}  # no reconcile queued
    log = reconciling_workers.log_dir / "worker-0.log"
    passes = wait_until(lambda: len(times := pass_times(log.read_text())) >= 4 and times,
                        timeout=30, what="four reconcile passes")
    gaps = [(later - earlier).total_seconds() for earlier, later in pairwise(passes)]
    assert min(gaps) >= INTERVAL * 0.9, gaps  # one pass per interval, never back to back
    print(f"crash found {detected_after:.1f}s after the kill, {len(waiting)} steps still queued")


def test_a_pass_out_of_budget_stops_and_leaves_the_rest_to_the_next(db, redis, make_workflow, operator):
    make_workflow(nap("orphan", 1))
    run = actions.trigger_run("orphan", {}, operator)[0]
    redis.flushdb()  # its job is gone: a pass with time left would enqueue it again
    assert reconcile(grace_seconds=0, budget_seconds=0).requeued == 0
    assert get_run(run.id).step("nap").status == "queued"
    assert reconcile(grace_seconds=0, budget_seconds=60).requeued == 1
    assert db.session.scalar(select(StepRun.rq_job_id).where(StepRun.run_id == run.id)) in {
        job.id for job in get_queue("default").get_jobs()}
