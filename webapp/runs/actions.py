"""Operator actions on a run: cancel, approve/reject a gate, resume, retry, checkpoints.

Each takes the run's lock, checks the state machines (409 naming the state otherwise), writes
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
from webapp.exceptions import Conflict, NotFound
from webapp.extensions import db
from webapp.queues import redis_connection
from webapp.runs.dispatch import clear_stop, request_stop
from webapp.runs.engine import advance, lock_run, move_run, move_step, start_waiting_runs, take_checkpoint, trigger
from webapp.runs.models import Checkpoint, StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.runs.states import STEP_RERUNNABLE
from webapp.workflows.service import get_workflow

log = logging.getLogger(__name__)
STOPPABLE_STEPS = ("pending", "queued", "retrying", "waiting_approval", "running")


def locked_run(run_id: int) -> WorkflowRun:
    run = lock_run(run_id)
    if run is None:
        raise NotFound(f"There is no run {run_id}.")
    return run


def audit(event: str, run: WorkflowRun, actor, **details: Any) -> None:
    record(event, actor=actor, target_type="run", target_id=run.id, details=details)


def trigger_run(slug: str, params: Any, actor, idempotency_key: str | None = None) -> tuple[WorkflowRun, bool]:
    """Trigger with audit, committed: ``(run, created)``; an already used key gives the old run."""
    run, created = trigger(get_workflow(slug), params, actor_id=getattr(actor, "id", None),
                           idempotency_key=idempotency_key)
    if created:
        audit("run.trigger", run, actor, workflow=slug)
    db.session.commit()
    return run, created


def cancel(run_id: int, actor) -> WorkflowRun:
    """Queued steps never start; running ones are asked to stop (flag + RQ stop-job)."""
    run = locked_run(run_id)
    move_run(run, "cancelled")
    running_jobs = [step.rq_job_id for step in run.steps if step.status in ("running", "queued", "retrying")]
    for step in run.steps:
        if step.status in STOPPABLE_STEPS:
            move_step(step, "cancelled", finished_at=utcnow())
    audit("run.cancel", run, actor)
    start_waiting_runs(run.workflow_id)
    db.session.commit()
    request_stop(run.id)
    for job_id in running_jobs:
        stop_job(job_id)
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
    """Approve (the step succeeds with the decision as output) or reject (the step fails)."""
    run = locked_run(run_id)
    step = find_step(run, step_id)
    if step.status != "waiting_approval":
        raise Conflict(f"Step {step_id} is {step.status}, not waiting for approval.", details={"state": step.status})
    decision = {"approved": approved, "comment": comment, "by": getattr(actor, "email", None)}
    if approved:
        move_step(step, "succeeded", output=decision, finished_at=utcnow())
        take_checkpoint(run)
    else:
        move_step(step, "failed", output=decision, error=f"rejected: {comment}" if comment else "rejected",
                  finished_at=utcnow())
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
    """Continue the SAME run from a checkpoint (default: the latest; none: the current state).

    Steps that are succeeded now and completed in the checkpoint keep their output; every
    other step goes back to ``pending`` with a fresh retry budget and runs again.
    """
    run = locked_run(run_id)
    if run.status not in ("failed", "cancelled", "paused"):
        raise Conflict(f"Run {run.id} is {run.status}; only failed, cancelled or paused runs can be resumed.",
                       details={"state": run.status})
    checkpoint = pick_checkpoint(run, checkpoint_id, event)
    kept = set(checkpoint.state.get("completed", {})) if checkpoint else {
        step.step_key for step in run.steps if step.status == "succeeded"}
    for step in run.steps:
        if step.status == "succeeded" and step.step_key in kept:
            step.output = checkpoint.state["completed"][step.step_key] if checkpoint else step.output
        elif step.status != "pending":
            reset_step(step)
    move_run(run, "running")
    run.finished_at, run.error = None, None
    run.resumed_from_checkpoint_id = checkpoint.id if checkpoint else run.resumed_from_checkpoint_id
    audit(event, run, actor, checkpoint_id=checkpoint.id if checkpoint else None)
    advance(run)
    clear_stop(run.id)  # before the commit, which sends the jobs that would read the flag
    db.session.commit()
    return run


def pick_checkpoint(run: WorkflowRun, checkpoint_id: int | None, event: str) -> Checkpoint | None:
    if checkpoint_id is not None:
        checkpoint = db.session.get(Checkpoint, checkpoint_id)
        if checkpoint is None or checkpoint.run_id != run.id:
            raise NotFound(f"Run {run.id} has no checkpoint {checkpoint_id}.")
        return checkpoint
    if event == "run.retry":
        return None
    return db.session.query(Checkpoint).filter_by(run_id=run.id).order_by(Checkpoint.seq.desc()).first()


def reset_step(step: StepRun) -> None:
    move_step(step, "pending", retries=0, error=None, output=None, started_at=None, finished_at=None)


def retry_run(run_id: int, actor) -> WorkflowRun:
    """Run again every step that did not succeed; succeeded steps keep their outputs."""
    return resume(run_id, actor, None, event="run.retry")


def retry_step(run_id: int, step_id: str, actor) -> WorkflowRun:
    """Run one failed, crashed, cancelled or skipped step again, with the steps behind it."""
    run = locked_run(run_id)
    step = find_step(run, step_id)
    if step.status not in STEP_RERUNNABLE:
        raise Conflict(f"Step {step_id} is {step.status}; only failed, crashed, cancelled or skipped steps "
                       "can be retried.",
                       details={"state": step.status})
    if run.status == "succeeded":
        raise Conflict(f"Run {run.id} is succeeded; there is nothing to retry.", details={"state": run.status})
    behind = plan_for(run.version).descendants(step_id)
    for other in run.steps:
        if other is step or (other.step_key in behind and other.status in STEP_RERUNNABLE):
            reset_step(other)
    if run.status in ("failed", "cancelled"):
        move_run(run, "running")
        run.finished_at, run.error = None, None
    audit("run.retry_step", run, actor, step_id=step_id)
    advance(run)
    clear_stop(run.id)  # before the commit, which sends the jobs that would read the flag
    db.session.commit()
    return run


def create_checkpoint(run_id: int, note: str, actor) -> Checkpoint:
    run = locked_run(run_id)
    checkpoint = take_checkpoint(run, kind="manual", note=note)
    audit("run.checkpoint", run, actor, note=note)
    db.session.commit()
    return checkpoint


def delete_checkpoint(checkpoint_id: int, actor) -> None:
    checkpoint = db.session.get(Checkpoint, checkpoint_id)
    if checkpoint is None:
        raise NotFound(f"There is no checkpoint {checkpoint_id}.")
    run = locked_run(checkpoint.run_id)
    if run.resumed_from_checkpoint_id == checkpoint.id and run.status in ("running", "paused"):
        raise Conflict(f"Checkpoint {checkpoint_id} is in use by run {run.id}, which is {run.status}.",
                       details={"state": run.status})
    db.session.delete(checkpoint)
    audit("run.checkpoint_delete", run, actor, checkpoint_id=checkpoint_id)
    db.session.commit()
