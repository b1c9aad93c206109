"""Step metrics recorded by the worker's PARENT process, after each job, from the database.

RQ's forking worker makes a new process per job, and even the persistent horse is a fork that
is replaced after a failure: a metric incremented there is lost with the process (or, in
multiprocess mode, leaves a file per pid behind). The parent lives as long as the worker, so it
records each finished step job: one indexed read of the attempt its job stood for (by
``(step_run_id, job_id)``) and of its cost record, plus the step's kind from the pinned workflow
version (cached per version: versions are immutable). After every job, step or not, it also
counts the run ends and crashed steps that job committed (``webapp.metrics.transitions``). A
worker serves these on ``WORKER_METRICS_PORT``; with 0 (the default) nothing is recorded and
nothing is read.
"""
from __future__ import annotations

import logging
from datetime import datetime
from functools import lru_cache

from prometheus_client import start_http_server
from rq.job import Job
from sqlalchemy import select

from webapp.costs.models import CostRecord
from webapp.extensions import db
from webapp.metrics.registry import cost, cost_saved, step_attempts, step_duration, step_queue_wait
from webapp.metrics.transitions import count_handed_off, worker_handoff
from webapp.runs.models import StepAttempt, StepRun, WorkflowRun
from webapp.workflows.models import Workflow, WorkflowVersion

log = logging.getLogger(__name__)
STEP_JOB = "jobs.steps.execute_step"
UNKNOWN = "unknown"


def serve(port: int) -> bool:
    """Start the worker's metrics endpoint; False (and step metrics stay off) when port is 0."""
    if not port:
        return False
    start_http_server(port)
    log.info("worker metrics on :%s/metrics", port)
    return True


@lru_cache(maxsize=512)
def step_kinds(version_id: int) -> dict[str, str]:
    definition = db.session.scalar(select(WorkflowVersion.definition).where(WorkflowVersion.id == version_id))
    return {step.get("id"): step.get("uses", UNKNOWN) for step in (definition or {}).get("steps", [])}


def seconds(start: datetime | None, end: datetime | None) -> float | None:
    return (end - start).total_seconds() if start and end else None


def observe_job(job: Job, worker_name: str) -> None:
    """Record the step attempt ``job`` ran and the runs it ended, once it is over; never fails the worker."""
    try:
        count_handed_off(job.connection, worker_handoff(worker_name))
        if job.func_name == STEP_JOB and job.args:
            record_attempt(int(job.args[0]), job.id)
    except Exception:  # a metric must never stop the worker from taking the next job
        log.warning("metrics: could not record job %s", job.id, exc_info=True)
    finally:
        db.session.remove()


def record_attempt(step_run_id: int, job_id: str) -> None:
    row = db.session.execute(
        select(StepAttempt.attempt, StepAttempt.status, StepAttempt.queued_at,
               StepAttempt.started_at, StepAttempt.finished_at, StepRun.step_key, WorkflowRun.workflow_version_id,
               Workflow.slug)
        .join(StepRun, StepRun.id == StepAttempt.step_run_id)
        .join(WorkflowRun, WorkflowRun.id == StepAttempt.run_id)
        .join(Workflow, Workflow.id == WorkflowRun.workflow_id)
        .where(StepAttempt.step_run_id == step_run_id, StepAttempt.job_id == job_id)).one_or_none()
    if row is None:
        return  # the job found nothing to do (a cancelled run, a redelivery)
    kind = step_kinds(row.workflow_version_id).get(row.step_key, UNKNOWN)
    if row.status == "running":
        # The job is over but its attempt never ended: the horse died or could not commit. The
        # reconciler marks the step ``crashed``, and is what counts it (webapp.metrics.transitions).
        return
    step_attempts.labels(kind, row.status).inc()
    duration = seconds(row.started_at, row.finished_at)
    if duration is not None:
        step_duration.labels(kind).observe(max(duration, 0.0))
    wait = seconds(row.queued_at, row.started_at)
    if wait is not None:
        step_queue_wait.observe(max(wait, 0.0))
    spent = db.session.execute(select(CostRecord.model, CostRecord.currency, CostRecord.amount, CostRecord.saved)
                               .where(CostRecord.step_run_id == step_run_id,
                                      CostRecord.attempt == row.attempt)).one_or_none()
    if spent is not None:
        if spent.amount:
            cost.labels(row.slug, spent.model or "", spent.currency).inc(float(spent.amount))
        if spent.saved:
            cost_saved.labels(spent.currency).inc(float(spent.saved))

