"""The reconciler: make Redis agree with PostgreSQL again (``flask reconcile``, or a job).

For every unfinished step of an active run:
- ``queued``/``retrying`` whose RQ job is gone, failed or stopped, in a run that may start steps
  (not one held by a budget or an operator): the attempt never started,
  so its job is enqueued again (same attempt; no retry is spent). This is how every run
  continues after Redis lost everything.
- ``queued``/``retrying`` whose job is still scheduled well past its time: the worker holding
  RQ's scheduler lock died, and another worker only takes the lock over minutes later; the job
  is moved to its queue now.
- ``running`` whose process is dead: on this host, the work horse's pid no longer exists; on
  another host, its RQ job is gone, not started, or its worker stopped sending heartbeats. The
  step becomes ``crashed`` (not ``failed``: its own code did not fail) and is retried per its
  policy, or the run fails.
Then every active run is advanced and waiting runs are started, which repairs anything a
crash between two transactions could have left behind. A held run stays held: advancing it
changes nothing, and only its own cause lifts the hold. Steps touched in the last
``grace_seconds`` are left alone: their job may be about to be enqueued by the committer. With
``budget_seconds`` the pass stops repairing once that time is spent and leaves the rest to the
next pass (the workers' timer gives each pass one interval); it then takes the steps in random
order, so that passes cut short do not always leave the same steps behind.
"""
from __future__ import annotations

import logging
import os
import random
import socket
import time
from dataclasses import asdict, dataclass
from datetime import UTC, timedelta

from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.worker import Worker
from sqlalchemy import select

from webapp.clock import utcnow
from webapp.costs.holds import sweep as sweep_budgets
from webapp.extensions import db
from webapp.queues import get_queue, redis_connection
from webapp.runs import states
from webapp.runs.dispatch import send_step, unsaved_reason
from webapp.runs.engine import advance, lock_run, start_waiting_runs
from webapp.runs.execution import Failure, fail_attempt
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.runs.states import RUN_ACTIVE, STEP_ACTIVE

log = logging.getLogger(__name__)
WAITING_JOB_STATES = ("queued", "scheduled", "deferred", "started")
HEARTBEAT_STALE_SECONDS = 120


@dataclass
class Report:
    requeued: int = 0
    released: int = 0
    crashed: int = 0
    runs_checked: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def reconcile(grace_seconds: float = 10.0, overdue_seconds: float = 30.0,
              budget_seconds: float | None = None) -> Report:
    report = Report()
    cutoff = utcnow() - timedelta(seconds=grace_seconds)
    overdue = utcnow() - timedelta(seconds=overdue_seconds)
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    candidates = db.session.execute(
        select(StepRun.id, StepRun.run_id).join(WorkflowRun).where(
            WorkflowRun.status.in_(RUN_ACTIVE), StepRun.status.in_(STEP_ACTIVE))).all()
    db.session.rollback()
    if deadline is not None:
        random.shuffle(candidates)
    for step_run_id, run_id in candidates:
        if spent(deadline, "repairing steps"):
            return report
        repair_step(run_id, step_run_id, cutoff, overdue, report)
    for (run_id,) in db.session.execute(select(WorkflowRun.id).where(WorkflowRun.status.in_(RUN_ACTIVE))).all():
        if spent(deadline, "advancing runs"):
            return report
        run = lock_run(run_id)
        advance(run)
        db.session.commit()
        report.runs_checked += 1
    for (workflow_id,) in db.session.execute(
            select(WorkflowRun.workflow_id).where(WorkflowRun.status == "queued").distinct()).all():
        start_waiting_runs(workflow_id)
        db.session.commit()
    budgets = sweep_budgets()  # holds of ended budget periods lift; reservations outliving their attempt go back
    log.info("reconciled: %s %s", report.as_dict(), budgets)
    return report


def spent(deadline: float | None, doing: str) -> bool:
    """Whether the pass's budget is over; the next pass carries on from the start."""
    if deadline is None or time.monotonic() < deadline:
        return False
    db.session.rollback()
    log.warning("reconcile pass out of time while %s; the next pass carries on", doing)
    return True


def repair_step(run_id: int, step_run_id: int, cutoff, overdue, report: Report) -> None:
    run = lock_run(run_id)
    step = db.session.get(StepRun, step_run_id, with_for_update=True, populate_existing=True)
    if run is None or run.status not in RUN_ACTIVE or step.status not in STEP_ACTIVE:
        db.session.rollback()
        return
    job = fetch_job(step.rq_job_id)
    if step.status == "running" and not horse_alive(step, job):
        log.warning("step %s of run %s: its worker died (job %s); marking it crashed",
                    step.step_key, run.id, step.rq_job_id)
        unsaved = unsaved_reason(step.rq_job_id)
        fail_attempt(run, step, Failure("the worker running this step died") if unsaved is None else Failure(
            f"the step ran but its result could not be saved: the database was unavailable ({unsaved})",
            spends_retry=False), crashed=True)
        report.crashed += 1
    elif step.status != "running" and states.starts_steps(run) and (step.queued_at or cutoff) <= cutoff and (
            job is None or job.get_status(refresh=False) not in WAITING_JOB_STATES):
        log.warning("step %s of run %s: job %s is missing; enqueueing it again", step.step_key, run.id, step.rq_job_id)
        send_step(db.session, step, plan_for(run.version).spec(step.step_key), new_attempt=False)
        report.requeued += 1
    elif job is not None and job.get_status(refresh=False) == "scheduled" and release_overdue(job, overdue):
        log.warning("step %s of run %s: job %s was overdue; enqueued it", step.step_key, run.id, job.id)
        report.released += 1
    db.session.commit()


def release_overdue(job: Job, overdue) -> bool:
    """Move a scheduled job that should have run before ``overdue`` to its queue."""
    registry = ScheduledJobRegistry(queue=get_queue(job.origin))
    try:
        if registry.get_scheduled_time(job) > overdue:
            return False
    except NoSuchJobError:
        return False
    registry.remove(job)
    get_queue(job.origin).enqueue_job(job)
    return True


def fetch_job(job_id: str | None) -> Job | None:
    if not job_id:
        return None
    try:
        return Job.fetch(job_id, connection=redis_connection())
    except NoSuchJobError:
        return None


def horse_alive(step: StepRun, job: Job | None) -> bool:
    """Whether the process running ``step`` still exists.

    ``step.worker`` is ``host:pid`` of the work horse. On this host the pid answers exactly
    (even when Redis was flushed and the job hash is gone); elsewhere we trust RQ: the job
    must be started by a worker whose heartbeat is recent.
    """
    host, _, pid = (step.worker or "").rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        return pid_alive(int(pid))
    if job is None or job.get_status(refresh=False) != "started" or not job.worker_name:
        return False
    worker = Worker.find_by_key(Worker.redis_worker_namespace_prefix + job.worker_name, connection=redis_connection())
    if worker is None or worker.last_heartbeat is None:
        return False
    beat = worker.last_heartbeat
    beat = beat if beat.tzinfo else beat.replace(tzinfo=UTC)
    return (utcnow() - beat).total_seconds() < HEARTBEAT_STALE_SECONDS


def pid_alive(pid: int) -> bool:
    """A zombie counts as dead: in a container, PID 1 may never reap an orphaned work horse."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True
