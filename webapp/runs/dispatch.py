"""Step jobs go to RQ only after the transaction that queued them commits.

Enqueueing inside the transaction would let a fast worker read the step before its row is
visible, or run a step whose transaction then rolled back. Engine code calls ``send_step``,
which notes the job on the session; a SQLAlchemy ``after_commit`` hook enqueues the noted jobs
and ``after_soft_rollback`` forgets them. If Redis is down at that moment the step stays
``queued`` in the database and the reconciler enqueues it later: PostgreSQL is the truth.
"""
from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.clock import utcnow
from webapp.queues import get_queue, redis_connection
from webapp.runs.plan import StepSpec

log = logging.getLogger(__name__)
PENDING_KEY = "flowdeck_step_jobs"
JOB_FUNCTION = "jobs.steps.execute_step"
# Time the engine needs around a step (reading state, committing) on top of the step's timeout.
JOB_TIMEOUT_MARGIN = 30


@dataclass(frozen=True)
class StepJob:
    step_run_id: int
    job_id: str
    queue: str
    delay: float
    timeout: int


def step_timeout(spec: StepSpec) -> int:
    """The step's own timeout in whole seconds: its ``timeout``, else ``JOB_TIMEOUT``."""
    return math.ceil(spec.timeout or current_app.config["JOB_TIMEOUT"])


def job_id_for(step_run_id: int, attempt: int) -> str:
    """One job id per attempt, so a re-enqueue of the same attempt replaces rather than adds."""
    return f"step-{step_run_id}-{attempt}"


def send_step(session: Session, step, spec: StepSpec, *, delay: float = 0.0, new_attempt: bool = True) -> None:
    """Give ``step`` its (next) attempt's job id and enqueue the job on the step's queue once
    ``session`` commits."""
    if new_attempt:
        step.attempt += 1
    step.rq_job_id = job_id_for(step.id, step.attempt)
    step.queued_at = utcnow()
    session.info.setdefault(PENDING_KEY, []).append(
        StepJob(step.id, step.rq_job_id, spec.queue, delay, step_timeout(spec)))


def enqueue_step_job(job: StepJob) -> None:
    options = {
        "job_id": job.job_id,
        "job_timeout": job.timeout + JOB_TIMEOUT_MARGIN,
        "result_ttl": current_app.config["JOB_RESULT_TTL"],
        "failure_ttl": current_app.config["JOB_FAILURE_TTL"],
    }
    queue = get_queue(job.queue)
    if job.delay > 0:
        queue.enqueue_in(timedelta(seconds=job.delay), JOB_FUNCTION, job.step_run_id, **options)
    else:
        queue.enqueue(JOB_FUNCTION, job.step_run_id, **options)


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    for job in session.info.pop(PENDING_KEY, []):
        try:
            enqueue_step_job(job)
        except Exception:  # Redis down: the reconciler re-enqueues queued steps from the database
            log.exception("could not enqueue %s; the reconciler will retry it", job.job_id)


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING_KEY, None)


def stop_key(run_id: int) -> str:
    return f"flowdeck:runs:{run_id}:stop"


def request_stop(run_id: int) -> None:
    """Tell steps of ``run_id`` that poll ``should_stop`` to give up (kept a day)."""
    redis_connection().set(stop_key(run_id), "1", ex=24 * 3600)


def clear_stop(run_id: int) -> None:
    redis_connection().delete(stop_key(run_id))


def stop_requested(run_id: int) -> bool:
    return bool(redis_connection().exists(stop_key(run_id)))
