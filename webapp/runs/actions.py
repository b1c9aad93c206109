"""Operator commands on a run: cancel, pause, approve/reject a gate, resume, retry, checkpoints.

These are the audited commands that commit; the API, the pages and the CLI call them. Each
takes the run's lock, asks the state model whether its state allows it (a Conflict naming the
state otherwise), writes
its audit event and outbox events in the same transaction, and commits; step jobs go to RQ
after the commit, and stop requests for running steps after it too.
"""
from __future__ import annotations

import logging
from typing import Any

from rq.command import send_stop_job_command
from rq.exceptions import InvalidJobOperation, NoSuchJobError
from rq.job import Job

from webapp.audit.service import record
from webapp.clock import utcnow
from webapp.costs.estimate import check_trigger
from webapp.exceptions import BudgetExceeded, Conflict, IllegalTransition, NotFound
from webapp.extensions import db
from webapp.queues import redis_connection
from webapp.runs import states
from webapp.runs.checkpoints import covered_outputs, delete_checkpoint_row, take_checkpoint
from webapp.runs.children import stop_jobs, stop_tree
from webapp.runs.dispatch import clear_stop
from webapp.runs.engine import (
    advance,
    lift_pause,
    lock_run,
    move_run,
    move_step,
    pause_run,
    reset_step,
    trigger,
)
from webapp.runs.models import Checkpoint, StepAttempt, StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.workflows.service import get_workflow

log = logging.getLogger(__name__)


def locked_run(run_id: int) -> WorkflowRun:
    run = lock_run(run_id)
    if run is None:
        raise NotFound(f"There is no run {run_id}.")
    return run


def audit(event: str, run: WorkflowRun, actor, **details: Any) -> None:
    record(event, actor=actor, target_type="run", target_id=run.id, details=details)


def trigger_run(slug: str, params: Any, actor, idempotency_key: str | None = None) -> tuple[WorkflowRun, bool]:
    """Trigger with audit, committed: ``(run, created)``; an already used key gives the old run."""
    workflow = get_workflow(slug)
    run, created = trigger(workflow, params, actor_id=getattr(actor, "id", None), idempotency_key=idempotency_key)
    if created:
        refuse_over_budget(workflow, run)
        audit("run.trigger", run, actor, workflow=slug)
    db.session.commit()
    return run, created


def refuse_over_budget(workflow, run: WorkflowRun) -> None:
    """A ``block`` budget refuses a new run whose upper bound does not fit (402); nothing is kept."""
    try:
        check_trigger(workflow, run.triggered_by, run.params)
    except BudgetExceeded:
        db.session.rollback()
        raise


def cancel(run_id: int, actor) -> WorkflowRun:
    """Queued steps never start; running ones are asked to stop (flag + RQ stop-job); the child
    runs of a waiting ``task.decompose`` step are cancelled with it."""
    run = locked_run(run_id)
    if not states.can_cancel(run):
        raise IllegalTransition(f"Run {run.id} is {run.status}; only queued, running or paused runs can be cancelled.",
                                details={"state": run.status})
    stopped = stop_tree(run, "cancelled by an operator")
    audit("run.cancel", run, actor)
    db.session.commit()
    stop_jobs(stopped)
    return run


def pause(run_id: int, actor, note: str = "") -> WorkflowRun:
    """Hold a running run: its running steps finish, nothing new starts until ``resume``."""
    run = locked_run(run_id)
    pause_run(run, "operator", note or None)
    audit("run.pause", run, actor, note=note)
    db.session.commit()
    return run


def stop_job(job_id: str | None) -> None:
    """Kill a running job's work horse, or drop a waiting job; best effort, the database rules."""
    if not job_id:
        return
    connection = redis_connection()
    try:
        job = Job.fetch(job_id, connection=connection)
        if job.get_status() == "started":
            send_stop_job_command(connection, job_id)
        else:
            job.cancel()
    except (NoSuchJobError, InvalidJobOperation):
        pass
    except Exception:  # Redis trouble must not undo a committed cancel
        log.exception("could not stop job %s", job_id)


def decide_gate(run_id: int, step_id: str, *, approved: bool, comment: str, actor) -> WorkflowRun:
    """Approve (the step succeeds with the decision as output) or reject (the step fails).

    The decision is the gate's attempt: it is kept with the others, and checkpoints refer to it.
    """
    run = locked_run(run_id)
    step = find_step(run, step_id)
    if not states.can_decide(step):
        raise Conflict(f"Step {step_id} is {step.status}, not waiting for approval.", details={"state": step.status})
    decision = {"approved": approved, "comment": comment, "by": getattr(actor, "email", None)}
    error = None if approved else f"rejected: {comment}" if comment else "rejected"
    step.attempt += 1
    db.session.add(StepAttempt(run_id=run.id, step_run_id=step.id, attempt=step.attempt,
                               status="succeeded" if approved else "failed", started_at=step.started_at,
                               finished_at=utcnow(), output=decision, error=error))
    move_step(step, "succeeded" if approved else "failed", output=decision, error=error, finished_at=utcnow())
    if approved:
        take_checkpoint(run, completed=step)
    audit("run.approve" if approved else "run.reject", run, actor, step_id=step_id, comment=comment)
    advance(run)
    db.session.commit()
    return run


def find_step(run: WorkflowRun, step_id: str) -> StepRun:
    step = run.step(step_id)
    if step is None:
        raise NotFound(f"Run {run.id} has no step {step_id}.")
    return step


def resume(run_id: int, actor, checkpoint_id: int | None = None, *, event: str = "run.resume") -> WorkflowRun:
    """Lift an operator's hold, or continue a failed or cancelled run from a checkpoint.

    From a checkpoint (default: the latest; for a retry: the current state), steps that are
    succeeded now and covered by the checkpoint keep that checkpoint's output; every other step
    goes back to ``pending`` with a fresh retry budget and runs again.
    """
    run = locked_run(run_id)
    if states.is_held(run) and run.pause_reason == "operator" and checkpoint_id is None:
        lift_pause(run, "operator")
        audit(event, run, actor, checkpoint_id=None)
        db.session.commit()
        return run
    if not states.can_resume(run) or states.is_held(run):
        raise IllegalTransition(resume_refusal(run), details={"state": run.status, "pause_reason": run.pause_reason})
    checkpoint = pick_checkpoint(run, checkpoint_id, event)
    kept = covered_outputs(checkpoint) if checkpoint else {
        step.step_key: step.output for step in run.steps if step.status == "succeeded"}
    for step in run.steps:
        if step.status == "succeeded" and step.step_key in kept:
            step.output = kept[step.step_key]
        elif step.status != "pending":
            reset_step(run, step)
    move_run(run, "running")
    run.finished_at, run.error = None, None
    run.resumed_from_checkpoint_id = checkpoint.id if checkpoint else run.resumed_from_checkpoint_id
    audit(event, run, actor, checkpoint_id=checkpoint.id if checkpoint else None)
    advance(run)
    clear_stop(run.id)  # before the commit, which sends the jobs that would read the flag
    db.session.commit()
    return run


def resume_refusal(run: WorkflowRun) -> str:
    if run.pause_reason == "operator":
        return f"Run {run.id} is paused by an operator: resume it first, then restore a checkpoint if it fails."
    if run.pause_reason == "budget":
        return f"Run {run.id} is paused by its budget: raise or reset the budget and it continues by itself."
    if run.pause_reason == "approval":
        return f"Run {run.id} waits for approval: approve or reject the gate to continue."
    return f"Run {run.id} is {run.status}; only failed, cancelled or paused runs can be resumed."


def pick_checkpoint(run: WorkflowRun, checkpoint_id: int | None, event: str) -> Checkpoint | None:
    if checkpoint_id is not None:
        checkpoint = db.session.get(Checkpoint, checkpoint_id)
        if checkpoint is None or checkpoint.run_id != run.id:
            raise NotFound(f"Run {run.id} has no checkpoint {checkpoint_id}.")
        return checkpoint
    if event == "run.retry":
        return None
    return db.session.query(Checkpoint).filter_by(run_id=run.id).order_by(Checkpoint.seq.desc()).first()


def retry_run(run_id: int, actor) -> WorkflowRun:
    """Run again every step that did not succeed; succeeded steps keep their outputs."""
    run = locked_run(run_id)
    if not states.can_retry(run):
        raise IllegalTransition(f"Run {run.id} is {run.status}; only failed or cancelled runs can be retried.",
                                details={"state": run.status})
    return resume(run_id, actor, None, event="run.retry")


def retry_step(run_id: int, step_id: str, actor) -> WorkflowRun:
    """Run one failed, crashed, cancelled or skipped step again, with the steps behind it."""
    run = locked_run(run_id)
    step = find_step(run, step_id)
    if run.status == "succeeded":
        raise Conflict(f"Run {run.id} is succeeded; there is nothing to retry.", details={"state": run.status})
    if not states.can_retry_step(run, step):
        raise Conflict(f"Step {step_id} is {step.status}; only failed, crashed, cancelled or skipped steps "
                       "can be retried.",
                       details={"state": step.status})
    behind = plan_for(run.version).descendants(step_id)
    for other in run.steps:
        if other is step or (other.step_key in behind and other.status in states.STEP_RERUNNABLE):
            reset_step(run, other)
    if states.is_finished(run):
        move_run(run, "running")
        run.finished_at, run.error = None, None
    audit("run.retry_step", run, actor, step_id=step_id)
    advance(run)
    clear_stop(run.id)  # before the commit, which sends the jobs that would read the flag
    db.session.commit()
    return run


def create_checkpoint(run_id: int, note: str, actor) -> Checkpoint:
    run = locked_run(run_id)
    checkpoint_id = take_checkpoint(run, kind="manual", note=note)
    audit("run.checkpoint", run, actor, note=note)
    db.session.commit()
    return db.session.get(Checkpoint, checkpoint_id)


def delete_checkpoint(checkpoint_id: int, actor) -> None:
    checkpoint = db.session.get(Checkpoint, checkpoint_id)
    if checkpoint is None:
        raise NotFound(f"There is no checkpoint {checkpoint_id}.")
    run = locked_run(checkpoint.run_id)
    if run.resumed_from_checkpoint_id == checkpoint.id and run.status in states.RUN_ACTIVE:
        raise Conflict(f"Checkpoint {checkpoint_id} is in use by run {run.id}, which is {run.status}.",
                       details={"state": run.status})
    delete_checkpoint_row(checkpoint, run)
    audit("run.checkpoint_delete", run, actor, checkpoint_id=checkpoint_id)
    db.session.commit()
