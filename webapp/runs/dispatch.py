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
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from flask import current_app
from redis.exceptions import RedisError
from rq import Queue
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
STOP_FLAG_WARNING_SECONDS = 10.0  # a step polls its flag every 0.1 s: warn once per this, not each time
_stop_flag_warned_at = -STOP_FLAG_WARNING_SECONDS


@dataclass(frozen=True)
class StepJob:
    step_run_id: int
    run_id: int
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
        StepJob(step.id, step.run_id, step.rq_job_id, spec.queue, delay, step_timeout(spec)))


def not_before(delay: float) -> datetime:
    """When a job delayed by ``delay`` seconds may run, rounded UP to a whole second: RQ's
    scheduled registry truncates to whole seconds, which would let a retry start up to a second
    before its backoff ends. Real time, not ``webapp.clock``: RQ's scheduler reads the real clock."""
    return datetime.fromtimestamp(math.ceil(time.time() + delay), UTC)


def enqueue_step_jobs(jobs: list[StepJob]) -> None:
    """Send ``jobs`` to RQ in ONE Redis round trip: a MULTI/EXEC pipeline, so a commit that
    readies a fan-out of 200 steps costs one round trip instead of 200, and either every job
    of the commit is enqueued or none is (the reconciler then re-enqueues them all).

    Immediate jobs go through ``Queue.enqueue_many`` per queue, delayed ones (a retry's
    backoff) to the queue's scheduled registry, on the same pipeline. (RQ 2.12 sends the
    registry's ZADD of a delayed job on its own, outside the pipeline; its score lies in the
    future, so the scheduler cannot pick it up before the pipeline has saved the job.)
    """
    ttls = {"result_ttl": current_app.config["JOB_RESULT_TTL"], "failure_ttl": current_app.config["JOB_FAILURE_TTL"]}
    queues: dict[str, Queue] = {}
    immediate: dict[str, list] = {}
    with redis_connection().pipeline() as pipeline:
        for job in jobs:
            queue = queues.setdefault(job.queue, get_queue(job.queue))
            timeout = job.timeout + JOB_TIMEOUT_MARGIN
            if job.delay > 0:
                queue.enqueue_at(not_before(job.delay), JOB_FUNCTION, job.step_run_id, job.run_id,
                                 job_id=job.job_id, job_timeout=timeout, pipeline=pipeline, **ttls)
            else:
                immediate.setdefault(job.queue, []).append(Queue.prepare_data(
                    JOB_FUNCTION, (job.step_run_id, job.run_id), job_id=job.job_id, timeout=timeout, **ttls))
        for name, datas in immediate.items():
            queues[name].enqueue_many(datas, pipeline=pipeline)
        pipeline.execute()


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    jobs = session.info.pop(PENDING_KEY, [])
    if not jobs:
        return
    try:
        enqueue_step_jobs(jobs)
    except Exception:  # Redis down: the reconciler re-enqueues queued steps from the database
        log.exception("could not enqueue %s; the reconciler will retry them", ", ".join(j.job_id for j in jobs))


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


def unsaved_key(job_id: str) -> str:
    return f"flowdeck:unsaved:{job_id}"


def note_unsaved(job_id: str, reason: str) -> None:
    """Remember, for the reconciler, that job ``job_id`` ran but could not save its outcome."""
    try:
        redis_connection().set(unsaved_key(job_id), reason[:500], ex=24 * 3600)
    except RedisError:
        log.warning("could not note that %s could not save its outcome", job_id)


def unsaved_reason(job_id: str | None) -> str | None:
    """Why ``job_id`` could not save its outcome, if it said so (and forget it)."""
    if not job_id:
        return None
    try:
        reason = redis_connection().getdel(unsaved_key(job_id))
    except RedisError:
        return None
    return reason.decode() if reason is not None else None


def stop_requested(run_id: int) -> bool:
    """Whether the run was cancelled; False while Redis cannot answer.

    A step must never fail because its stop flag could not be read: during a Redis outage it
    carries on, and a cancel made meanwhile still wins in the database (the record phase drops
    the result of a step that is no longer running).
    """
    global _stop_flag_warned_at
    try:
        return bool(redis_connection().exists(stop_key(run_id)))
    except RedisError as error:
        if time.monotonic() - _stop_flag_warned_at >= STOP_FLAG_WARNING_SECONDS:
            _stop_flag_warned_at = time.monotonic()
            log.warning("could not read the stop flag of run %s (%s); carrying on", run_id, error)
        return False
