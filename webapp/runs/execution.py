"""One step attempt, as run by the ``jobs.steps.execute_step`` RQ job.

Three short phases: claim the attempt (``queued`` -> ``running``, committed), execute the
kind with no transaction open, then record the outcome, cost, checkpoint and the run's next
steps in ONE transaction under the run's lock. Each phase first checks that the step still
belongs to this job (``rq_job_id``) and is in the state it expects, so a duplicate delivery,
a job for a cancelled run, or the late result of an attempt the reconciler gave up on
changes nothing: delivery is at-least-once, effects happen once.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rq.timeouts import BaseDeathPenalty, UnixSignalDeathPenalty
from sqlalchemy import select

from webapp import logs
from webapp.clock import utcnow
from webapp.costs.models import CostRecord
from webapp.extensions import db
from webapp.runs.dispatch import send_step, step_timeout, stop_requested
from webapp.runs.engine import advance, lock_run, move_step, take_checkpoint
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.steps.base import StepContext, StepFailed, StepResult
from webapp.steps.registry import get_kind
from webapp.workflows.templating import make_scope, render_inputs

log = logging.getLogger(__name__)


class StepTimedOut(Exception):
    """The step ran past its ``timeout``."""


@dataclass(frozen=True)
class Attempt:
    run_id: int
    step_run_id: int
    step_id: str
    attempt: int
    uses: str
    with_: dict[str, Any]
    timeout: int
    params: dict[str, Any]
    outputs: dict[str, Any]
    run: dict[str, Any]


def execute_step(step_run_id: int, job_id: str) -> None:
    """Run the attempt that job ``job_id`` stands for, if it is still the step's current one."""
    attempt = claim(step_run_id, job_id)
    if attempt is None:
        return
    with logs.bound(run_id=str(attempt.run_id)):
        log.info("step %s attempt %s started", attempt.step_id, attempt.attempt)
        outcome = perform(attempt)
        record_outcome(step_run_id, job_id, outcome)


def claim(step_run_id: int, job_id: str) -> Attempt | None:
    step = db.session.get(StepRun, step_run_id)
    run = lock_run(step.run_id) if step is not None else None
    if run is None:
        db.session.rollback()
        return None
    db.session.refresh(step, with_for_update=True)
    if step.rq_job_id != job_id or run.status not in ("running", "paused") or step.status not in ("queued", "retrying"):
        log.info("step run %s: job %s has nothing to do (step %s, run %s)",
                 step_run_id, job_id, step.status, run.status)
        db.session.rollback()
        return None
    if step.status == "retrying":
        move_step(step, "queued")
    move_step(step, "running", started_at=utcnow(), finished_at=None, worker=f"{socket.gethostname()}:{os.getpid()}")
    plan = plan_for(run.version)
    spec = plan.spec(step.step_key)
    outputs = dict(db.session.execute(select(StepRun.step_key, StepRun.output).where(
        StepRun.run_id == run.id, StepRun.status == "succeeded")).all())
    attempt = Attempt(run.id, step.id, step.step_key, step.attempt, spec.uses, spec.with_, step_timeout(spec),
                      run.params, outputs, {"id": run.id, "workflow": run.workflow.slug, "attempt": step.attempt})
    db.session.commit()
    return attempt


def perform(attempt: Attempt) -> StepResult | str:
    """The kind's result, or the error message of a failed attempt."""
    try:
        kind = get_kind(attempt.uses)
        scope = make_scope(attempt.params, attempt.outputs, attempt.run)
        inputs = kind.parse_inputs(render_inputs(attempt.with_, scope))
        context = StepContext(run_id=attempt.run_id, step_id=attempt.step_id, attempt=attempt.attempt,
                              params=attempt.params, outputs=attempt.outputs,
                              should_stop=lambda: stop_requested(attempt.run_id))
        with time_limit(attempt.timeout):
            return kind.execute(inputs, context)
    except StepFailed as error:
        return str(error) or type(error).__name__
    except StepTimedOut:
        return f"timed out after {attempt.timeout}s"
    except Exception as error:  # a bug in a kind must fail the step, not leave it running
        log.exception("step %s raised", attempt.step_id)
        return f"{type(error).__name__}: {error}"


def time_limit(seconds: int) -> BaseDeathPenalty:
    """The step's own timeout, by SIGALRM in a worker's main thread (RQ's job timeout, set a
    margin higher, is the backstop elsewhere)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM"):
        return UnixSignalDeathPenalty(seconds, StepTimedOut)
    return BaseDeathPenalty(seconds, StepTimedOut)


def record_outcome(step_run_id: int, job_id: str, outcome: StepResult | str) -> None:
    step = db.session.get(StepRun, step_run_id)
    run = lock_run(step.run_id) if step is not None else None
    if run is None:  # the run was deleted while the step ran
        db.session.rollback()
        return
    db.session.refresh(step, with_for_update=True)
    if step.rq_job_id != job_id or step.status != "running":
        log.warning("step %s: dropping the result of job %s (the step is %s now)", step.step_key, job_id, step.status)
        db.session.rollback()
        return
    if isinstance(outcome, StepResult):
        succeed(run, step, outcome)
    else:
        fail_attempt(run, step, outcome, crashed=False)
    db.session.commit()


def succeed(run: WorkflowRun, step: StepRun, result: StepResult) -> None:
    if result.cost is not None:
        line = result.cost
        db.session.add(CostRecord(run_id=run.id, step_run_id=step.id, attempt=step.attempt, kind=line.kind,
                                  model=line.model, units_in=line.units_in, units_out=line.units_out,
                                  unit_price_in=line.unit_price_in, unit_price_out=line.unit_price_out,
                                  amount=line.amount, currency=line.currency, user_id=run.triggered_by,
                                  workflow_id=run.workflow_id))
        step.cost = (step.cost or Decimal("0")) + line.amount
        run.cost_total = (run.cost_total or Decimal("0")) + line.amount
    move_step(step, "succeeded", output=result.output, error=None, finished_at=utcnow())
    take_checkpoint(run)
    advance(run)


def fail_attempt(run: WorkflowRun, step: StepRun, error: str, *, crashed: bool) -> None:
    """Retry per the step's policy (after its backoff), or give up and let the run settle.

    A crashed attempt stays ``crashed`` (the worker died, the code did not fail) when no
    retry is left; either way the retry is a new attempt with a new job.
    """
    spec = plan_for(run.version).spec(step.step_key)
    move_step(step, "crashed" if crashed else "failed" if step.retries >= spec.retry_max else "retrying",
              error=error, finished_at=utcnow())
    if step.retries < spec.retry_max:
        step.retries += 1
        delay = spec.backoff_for(step.retries)
        if crashed:
            move_step(step, "queued")
        send_step(db.session, step, spec, delay=delay)
        log.info("step %s: retry %s of %s in %ss (%s)", step.step_key, step.retries, spec.retry_max, delay, error)
    else:
        advance(run)
