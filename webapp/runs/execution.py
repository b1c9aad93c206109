"""One step attempt, as run by the ``jobs.steps.execute_step`` RQ job.

Three short phases: claim the attempt (``queued`` -> ``running``, its ``step_attempts`` row
inserted, committed), execute the kind with no transaction open, then record the outcome,
cost, checkpoint and the run's next steps in ONE transaction under the run's lock. Each phase
first checks that the step still belongs to this job (``rq_job_id``) and is in the state it
expects, so a duplicate delivery, a job for a cancelled or held run, or the late result of an
attempt the reconciler gave up on changes nothing: delivery is at-least-once, effects happen
once.
"""
from __future__ import annotations

import functools
import json
import logging
import os
import signal
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import psycopg
from rq.timeouts import BaseDeathPenalty, UnixSignalDeathPenalty
from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from webapp import logs
from webapp.clock import utcnow
from webapp.costs import enforcement, recording
from webapp.costs.ledger import Refusal
from webapp.costs.models import CostRecord
from webapp.extensions import db
from webapp.memory import memo
from webapp.runs import attempt_logs, children, states
from webapp.runs.checkpoints import take_checkpoint
from webapp.runs.dispatch import note_unsaved, send_step, step_timeout, stop_requested
from webapp.runs.engine import advance, lock_run_and_step, move_step
from webapp.runs.models import StepAttempt, StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.steps.base import SpawnChildren, StepContext, StepFailed, StepResult
from webapp.steps.registry import get_kind
from webapp.workflows.templating import make_scope, render_inputs

log = logging.getLogger(__name__)
TRACEBACK_LIMIT = 8_000
RECORD_RETRY_DELAYS = (0.05, 0.2, 0.5, 1, 2, 4, 8)


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
    memo_plan: memo.MemoPlan | None = None  # a step with cache: {ttl} (webapp/memory/memo.py)
    reserved: bool = True  # whether the claim reserved budget, which the record must then close


@dataclass(frozen=True)
class Failure:
    """A failed attempt: the message operators read, and whether a retry could help."""

    error: str
    retryable: bool = True
    traceback: str | None = None
    # False for an infrastructure failure (the result could not be saved): it is retried
    # without spending one of the step's own retries.
    spends_retry: bool = True


def execute_step(step_run_id: int, job_id: str, *, run_id: int | None = None) -> None:
    """Run the attempt that job ``job_id`` stands for, if it is still the step's current one."""
    attempt = claim(step_run_id, job_id, run_id)
    if attempt is None:
        return
    with logs.bound(run_id=str(attempt.run_id)):
        log.info("step %s attempt %s started", attempt.step_id, attempt.attempt)
        with attempt_logs.capture() as captured:
            outcome = perform(attempt)
        attempt_logs.save(step_run_id, attempt.attempt, captured)
        record_outcome(step_run_id, job_id, outcome, run_id=attempt.run_id, reserved=attempt.reserved)


def claim(step_run_id: int, job_id: str, run_id: int | None = None) -> Attempt | None:
    """Start the attempt, with the run locked against operators but not against its other
    steps' claims and records, and the step's own row locked (``lock_run_and_step``)."""
    if run_id is None:  # a job that names only its step
        run_id = db.session.scalar(select(StepRun.run_id).where(StepRun.id == step_run_id))
    run, step = lock_run_and_step(run_id, step_run_id, mode="claim") if run_id is not None else (None, None)
    if step is None:
        db.session.rollback()
        return None
    if step.rq_job_id != job_id or not states.can_claim(run, step):
        log.info("step run %s: job %s has nothing to do (step %s, run %s)",
                 step_run_id, job_id, step.status, run.status)
        db.session.rollback()
        return None
    if step.status == "retrying":
        move_step(step, "queued")
    plan = plan_for(run.version)
    spec = plan.spec(step.step_key)
    outputs = upstream_outputs(run, plan.reads(step.step_key))
    scope_run = {"id": run.id, "workflow": run.workflow.slug, "attempt": step.attempt}
    # Memoization before budgets: a result already stored spends nothing, so it reserves nothing.
    memo_plan = memo.plan(spec, run.params, outputs, scope_run)
    # Budgets: reserve the attempt's upper bound first; a refusal holds the run, the step stays queued.
    reserved = (memo_plan is None or memo_plan.hit is None) and enforcement.reserve_step(
        run, step, spec.uses, spec.with_, outputs, scope_run)
    if isinstance(reserved, Refusal):
        db.session.commit()
        return None
    now, worker = utcnow(), f"{socket.gethostname()}:{os.getpid()}"
    move_step(step, "running", started_at=now, finished_at=None, worker=worker)
    db.session.add(StepAttempt(run_id=run.id, step_run_id=step.id, attempt=step.attempt, status="running",
                               job_id=job_id, queue=spec.queue, worker=worker, queued_at=step.queued_at,
                               started_at=now))
    attempt = Attempt(run.id, step.id, step.step_key, step.attempt, spec.uses, spec.with_, step_timeout(spec),
                      run.params, outputs, scope_run, memo_plan, reserved)
    db.session.commit()
    return attempt


def upstream_outputs(run: WorkflowRun, upstream: frozenset[str]) -> dict[str, Any]:
    """The outputs of ``upstream``, the steps the step's templates read (``Plan.reads``)."""
    if not upstream:
        return {}
    return dict(db.session.execute(select(StepRun.step_key, StepRun.output).where(
        StepRun.run_id == run.id, StepRun.status == "succeeded", StepRun.step_key.in_(upstream))).all())


def perform(attempt: Attempt) -> StepResult | Failure:
    """The kind's result, or what made the attempt fail."""
    try:
        kind = get_kind(attempt.uses)
        scope = make_scope(attempt.params, attempt.outputs, attempt.run)
        try:
            rendered = render_inputs(attempt.with_, scope)
        except Exception as error:  # the same templates over the same outputs fail the same way
            return Failure(f"the step's inputs do not render: {error}", retryable=False)
        inputs = kind.parse_inputs(rendered)
        cached = memo.before_execute(attempt.memo_plan)
        if cached is not None:  # memoized: the stored result of the same kind, version and inputs
            return cached
        context = StepContext(run_id=attempt.run_id, step_id=attempt.step_id, attempt=attempt.attempt,
                              params=attempt.params, outputs=attempt.outputs,
                              should_stop=lambda: stop_requested(attempt.run_id))
        with time_limit(attempt.timeout):
            return memo.computed(attempt.memo_plan, kind.execute(inputs, context))
    except StepFailed as error:
        return Failure(str(error) or type(error).__name__, retryable=error.retryable)
    except StepTimedOut:
        return Failure(f"timed out after {attempt.timeout}s")
    except Exception as error:  # a bug in a kind must fail the step, not leave it running
        log.exception("step %s raised", attempt.step_id)
        return Failure(f"{type(error).__name__}: {error}", traceback=traceback.format_exc()[-TRACEBACK_LIMIT:])


def time_limit(seconds: int) -> BaseDeathPenalty:
    """The step's own timeout, by SIGALRM in a worker's main thread (RQ's job timeout, set a
    margin higher, is the backstop elsewhere)."""
    if threading.current_thread() is threading.main_thread() and hasattr(signal, "SIGALRM"):
        return UnixSignalDeathPenalty(seconds, StepTimedOut)
    return BaseDeathPenalty(seconds, StepTimedOut)


def record_outcome(step_run_id: int, job_id: str, outcome: StepResult | Failure, *, run_id: int,
                   reserved: bool = True) -> None:
    """Save the outcome, riding out transient database errors (a disconnect, a restart, a
    deadlock, a serialization failure) with a bounded backoff of about 16 s.

    If it still cannot be saved, the job fails (its horse retires) after noting why in Redis:
    the reconciler then retries the step as an infrastructure failure, spending none of its
    retries, with an error that names the database.
    """
    for delay in (*RECORD_RETRY_DELAYS, None):
        try:
            save_outcome(step_run_id, job_id, outcome, run_id=run_id, reserved=reserved)
            return
        except DBAPIError as error:
            db.session.rollback()
            if delay is None or not transient(error):
                note_unsaved(job_id, str(error.orig or error).splitlines()[0])
                raise
            log.warning("saving the outcome of %s failed (%s); trying again in %ss",
                        job_id, str(error.orig or error).splitlines()[0], delay)
            time.sleep(delay)


def transient(error: DBAPIError) -> bool:
    """Errors that the same transaction, tried again, can get past."""
    return error.connection_invalidated or isinstance(error, OperationalError) or isinstance(
        error.orig, psycopg.errors.SerializationFailure | psycopg.errors.DeadlockDetected)


def save_outcome(step_run_id: int, job_id: str, outcome: StepResult | Failure, *, run_id: int,
                 reserved: bool = True) -> None:
    """Save the outcome under the run's lock and the step's, both taken by one statement.
    ``reserved=False``: the claim reserved no budget, so a success has no reservation to close."""
    run, step = lock_run_and_step(run_id, step_run_id, mode="record")
    if step is None:  # the run was deleted while the step ran
        db.session.rollback()
        return
    if step.rq_job_id != job_id or step.status != "running":
        log.warning("step %s: dropping the result of job %s (the step is %s now)", step.step_key, job_id, step.status)
        db.session.rollback()
        return
    if isinstance(outcome, SpawnChildren):  # task.decompose: the engine starts and waits for child runs
        children.spawn(run, step, outcome)
    elif isinstance(outcome, StepResult):
        succeed(run, step, outcome, reserved=reserved)
    else:
        fail_attempt(run, step, outcome)
    db.session.commit()


def close_attempt(step: StepRun, status: str, **fields: Any) -> None:
    """End the step's current attempt row in one UPDATE (no load)."""
    db.session.execute(_close_statement(frozenset(fields)), {
        "a_step": step.id, "a_attempt": step.attempt, "status": status, "finished_at": utcnow(), **fields})


@functools.cache
def _close_statement(names: frozenset[str]):
    """``close_attempt``'s UPDATE for one set of extra columns, built once (as ``LOCK_RUN`` is)."""
    table = StepAttempt.__table__
    return (update(table).where(table.c.step_run_id == bindparam("a_step"), table.c.attempt == bindparam("a_attempt"))
            .values({name: bindparam(name, type_=table.c[name].type) for name in ("status", "finished_at", *names)}))


def succeed(run: WorkflowRun, step: StepRun, result: StepResult, *, reserved: bool = True) -> None:
    amount = Decimal("0")
    if result.cost is not None:
        line = result.cost
        amount = line.amount
        recording.record(CostRecord(run_id=run.id, step_run_id=step.id, attempt=step.attempt, kind=line.kind,
                                     model=line.model, units_in=line.units_in, units_out=line.units_out,
                                     unit_price_in=line.unit_price_in, unit_price_out=line.unit_price_out,
                                     amount=line.amount, currency=line.currency, user_id=run.triggered_by,
                                     workflow_id=run.workflow_id, saved=memo.saved_by(result)))
        step.cost = (step.cost or Decimal("0")) + line.amount
        run.cost_total = (run.cost_total or Decimal("0")) + line.amount
    enforcement.settle_step(run, step, amount, reserved=reserved)
    close_attempt(step, "succeeded", output=result.output, cost=amount,
                  output_bytes=len(json.dumps(result.output, default=str)))
    step.cache_hit = isinstance(result, memo.CachedResult)
    memo.after_success(result)
    move_step(step, "succeeded", output=result.output, error=None, finished_at=utcnow())
    take_checkpoint(run, completed=step)
    advance(run, after=step)


def fail_attempt(run: WorkflowRun, step: StepRun, failure: Failure, *, crashed: bool = False) -> None:
    """Retry per the step's policy (after its backoff), or give up and let the run settle.

    A failure that a retry cannot fix fails the step at once. A crashed attempt stays
    ``crashed`` (the worker died, the code did not fail) when no retry is left; either way the
    retry is a new attempt with a new job.
    """
    spec = plan_for(run.version).spec(step.step_key)
    enforcement.release_step(step)
    close_attempt(step, "crashed" if crashed else "failed", error=failure.error, traceback=failure.traceback)
    will_retry = failure.retryable and (not failure.spends_retry or step.retries < spec.retry_max)
    move_step(step, "retrying" if will_retry and not crashed else "crashed" if crashed else "failed",
              error=failure.error, finished_at=utcnow())
    if will_retry:
        step.retries += 1 if failure.spends_retry else 0
        delay = spec.backoff_for(max(step.retries, 1))
        if crashed:
            move_step(step, "queued")
        send_step(db.session, step, spec, delay=delay)
        log.info("step %s: retry %s of %s in %ss (%s)", step.step_key, step.retries, spec.retry_max, delay,
                 failure.error)
    else:
        advance(run, after=step)
