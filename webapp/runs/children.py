"""Child runs of a ``task.decompose`` step: spawn them, start them under a cap, collect them.

- **Spawn** (the executor's record phase, under the parent run's lock): the children's
  workflow is ``child_workflow``, or is created now from the definition a strategy planned
  (webapp/decomposition/fan_out.py); every child run is created at once, ``queued``, with an
  idempotency key naming the step, attempt and item, so no item ever gets two runs; the step
  moves to ``waiting_children`` and no worker waits. The attempt stays open; while it waits,
  its ``output`` says what it waits for (the cap and the tolerance), which is what ``progress``
  reads back.
- **Progress** (``engine.advance`` of the parent, under its lock): start queued children in item
  order while fewer than ``max_children`` are active; fail the step (and cancel the children
  still going) once more than ``allow_failures`` did not succeed; succeed it once all finished,
  with their outputs in item order (``None`` for a tolerated failure). A child's output is its
  last step's, or ``{step id: output}`` when several steps end it.
- **Finished child**: ``engine.move_run`` calls ``child_finished``; after the commit a job
  (``jobs.children.advance_parent``) advances the parent. Locks are always taken parent first,
  then child, so a child finishing and its parent being cancelled cannot deadlock. If that job
  is lost, the reconciler's pass over active runs advances the parent anyway.
- Children of a held (paused) parent keep running; the parent collects them when it goes on.
  Children are started by their parent, not by their workflow's ``max_concurrent_runs``.
"""
from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

from sqlalchemy import event, select, update
from sqlalchemy.orm import Session

from webapp.clock import utcnow
from webapp.exceptions import InvalidInput
from webapp.extensions import db
from webapp.runs import states
from webapp.runs.models import StepAttempt, StepRun, WorkflowRun
from webapp.steps.base import SpawnChildren

log = logging.getLogger(__name__)
PENDING_PARENTS = "flowdeck_parents_to_advance"


def child_key(step: StepRun, item: int) -> str:
    return f"child:{step.id}:{step.attempt}:{item}"


def child_workflow(run: WorkflowRun, request: SpawnChildren):
    """The workflow the children run: ``request.workflow``, or the one created from the planned
    ``request.definition`` (by the run's triggerer, in this transaction). ``InvalidInput`` if
    neither can be had."""
    from webapp.exceptions import DomainError
    from webapp.workflows.models import Workflow
    from webapp.workflows.service import create_workflow

    if request.definition is not None:
        try:
            return create_workflow(request.definition, run.triggered_by)
        except DomainError as error:  # a slug taken meanwhile, a definition over the size cap
            raise InvalidInput(f"the children's planned workflow cannot be created: {error.message}") from None
    workflow = db.session.scalar(select(Workflow).where(Workflow.slug == request.workflow))
    if workflow is None or workflow.archived:
        raise InvalidInput(f"child_workflow {request.workflow!r} does not exist or is archived")
    return workflow


def spawn(run: WorkflowRun, step: StepRun, request: SpawnChildren) -> None:
    """Create the children of ``step``'s current attempt and start the first ones."""
    from webapp.costs import enforcement
    from webapp.runs.engine import advance, move_step, trigger
    from webapp.runs.execution import Failure, fail_attempt
    from webapp.workflows.service import get_version, validate_trigger_params

    try:
        workflow = child_workflow(run, request)
    except InvalidInput as error:
        fail_attempt(run, step, Failure(error.message, retryable=False))
        return
    definition = get_version(workflow).definition
    declared = set(definition.get("params", {}))
    params = [{key: value for key, value in (("item", item), ("index", index), ("goal", request.goal))
               if key in declared} for index, item in enumerate(request.items)]
    for index, values in enumerate(params):  # all checked before any child exists
        try:
            validate_trigger_params(definition, values)
        except InvalidInput as error:
            fail_attempt(run, step, Failure(f"item {index} does not fit {workflow.slug}: {error.message}",
                                            retryable=False))
            return
    for index, values in enumerate(params):
        trigger(workflow, values, actor_id=run.triggered_by, idempotency_key=child_key(step, index),
                parent_run_id=run.id, parent_step_run_id=step.id, parent_attempt=step.attempt, parent_item=index)
    enforcement.settle_step(run, step, Decimal("0"))
    waiting = {"waiting_for": len(request.items), "max_children": request.max_children,
               "allow_failures": request.allow_failures, "child_workflow": workflow.slug}
    record_waiting(step, waiting)
    move_step(step, "waiting_children", output=None)
    db.session.flush()
    advance(run)


def record_waiting(step: StepRun, output: dict[str, Any]) -> None:
    """What the open attempt waits for, kept in its ``output`` until ``progress`` ends it."""
    db.session.execute(update(StepAttempt).where(StepAttempt.step_run_id == step.id,
                                                 StepAttempt.attempt == step.attempt).values(output=output))


def children_of(step: StepRun, *, lock: bool = False) -> list[WorkflowRun]:
    query = (select(WorkflowRun).where(WorkflowRun.parent_step_run_id == step.id,
                                       WorkflowRun.parent_attempt == step.attempt)
             .order_by(WorkflowRun.parent_item))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(db.session.scalars(query))


def progress(run: WorkflowRun) -> None:
    """Move each waiting ``task.decompose`` step of ``run`` on (see the module docstring)."""
    for step in run.steps:
        if step.status == "waiting_children":
            _progress_step(run, step)


def _progress_step(run: WorkflowRun, step: StepRun) -> None:
    from webapp.runs.checkpoints import take_checkpoint
    from webapp.runs.engine import advance, move_run, move_step
    from webapp.runs.execution import close_attempt

    waiting = db.session.scalar(select(StepAttempt.output).where(
        StepAttempt.step_run_id == step.id, StepAttempt.attempt == step.attempt)) or {}
    children = children_of(step, lock=True)
    finished = [child for child in children if states.is_finished(child)]
    failed = [child for child in finished if child.status != "succeeded"]
    if len(failed) > waiting.get("allow_failures", 0):
        stopped = [stop_tree(child, "cancelled: a sibling child run failed")
                   for child in children if states.can_cancel(child)]  # all locked above, before any workflow
        error = (f"{len(failed)} of {len(children)} child runs did not succeed (allowed: "
                 f"{waiting.get('allow_failures', 0)}): " + ", ".join(f"run {c.id} {c.status}" for c in failed[:5]))
        close_attempt(step, "failed", error=error)
        move_step(step, "failed", error=error, finished_at=utcnow())
        _stop_after_commit([job for jobs in stopped for job in jobs])
        return
    if len(finished) == len(children):
        output = [child_output(child) if child.status == "succeeded" else None for child in children]
        close_attempt(step, "succeeded", output=output)
        move_step(step, "succeeded", output=output, error=None, finished_at=utcnow())
        take_checkpoint(run, completed=step)
        return
    active = sum(1 for child in children if child.status in states.RUN_ACTIVE)
    for child in children:
        if active >= waiting.get("max_children", 1):
            break
        if child.status == "queued":
            move_run(child, "running")
            advance(child)
            active += 1


def child_output(child: WorkflowRun) -> Any:
    """The output of the step(s) that end the child run: nothing else needs them."""
    from webapp.runs.plan import plan_for

    plan = plan_for(child.version)
    needed = {need for spec in plan.steps for need in spec.needs}
    ends = [spec.id for spec in plan.steps if spec.id not in needed]
    outputs = {step.step_key: step.output for step in child.steps}
    return outputs[ends[0]] if len(ends) == 1 else {end: outputs[end] for end in ends}


def stop_tree(run: WorkflowRun, reason: str) -> list[tuple[int, str | None]]:
    """Cancel ``run`` (locked) and its unfinished descendants: every unfinished step stops, open
    attempts close. Returns ``(run id, job id)`` of each job to stop once the caller commits.

    Every run row of the tree is locked before any workflow row (to start runs that waited for
    a slot), the engine's lock order, so a child finishing meanwhile cannot deadlock with this.
    """
    from webapp.runs.engine import start_waiting_runs

    stopped: list[tuple[int, str | None]] = []
    workflows: dict[int, None] = {}
    _stop(run, reason, stopped, workflows)
    for workflow_id in workflows:
        start_waiting_runs(workflow_id)
    return stopped


def _stop(run: WorkflowRun, reason: str, stopped: list[tuple[int, str | None]], workflows: dict[int, None]) -> None:
    from webapp.runs.engine import lock_run, move_run, move_step
    from webapp.runs.execution import close_attempt

    stopped += [(run.id, step.rq_job_id) for step in run.steps if step.status in states.STEP_ACTIVE]
    stopped.append((run.id, None))
    workflows.setdefault(run.workflow_id)
    move_run(run, "cancelled")
    for step in run.steps:
        if step.status == "waiting_children":
            for child in children_of(step):
                if states.can_cancel(child):
                    _stop(lock_run(child.id), "cancelled with its parent run", stopped, workflows)
        if states.has_open_attempt(step):
            close_attempt(step, "cancelled", error=reason)
        if step.status in states.STEP_STOPPABLE:
            move_step(step, "cancelled", finished_at=utcnow())


def stop_jobs(stopped: list[tuple[int, str | None]]) -> None:
    """After the commit: the stop flag of each run, and RQ's stop for each live job."""
    from webapp.runs.actions import stop_job
    from webapp.runs.dispatch import request_stop

    for run_id in {run_id for run_id, _job in stopped}:
        request_stop(run_id)
    for _run_id, job_id in stopped:
        stop_job(job_id)


def _stop_after_commit(stopped: list[tuple[int, str | None]]) -> None:
    db.session.info.setdefault(PENDING_PARENTS + ":stop", []).extend(stopped)


def child_finished(run: WorkflowRun) -> None:
    """``run`` (a child) just finished: its parent advances once this transaction commits."""
    db.session.info.setdefault(PENDING_PARENTS, set()).add(run.parent_run_id)


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    parents = session.info.pop(PENDING_PARENTS, set())
    stopped = session.info.pop(PENDING_PARENTS + ":stop", [])
    try:
        if stopped:
            stop_jobs(stopped)
        if parents:
            from jobs.children import enqueue_advance_parent

            for parent_id in sorted(parents):
                enqueue_advance_parent(parent_id)
    except Exception:  # Redis trouble: the reconciler advances every active run anyway
        log.exception("could not signal parent runs %s", sorted(parents))


@event.listens_for(Session, "after_soft_rollback")
def _forget(session: Session, previous_transaction) -> None:
    session.info.pop(PENDING_PARENTS, None)
    session.info.pop(PENDING_PARENTS + ":stop", None)


def family_json(run: WorkflowRun) -> dict[str, Any]:
    """The run's links for its JSON: ``parent`` (``{run_id, step, attempt, item}``, or None), the
    ``decomposition_id`` whose execution started it (or None), and ``children``: for each step
    run id that fanned out, its current attempt's child runs ``{run_id, item, status}`` in item
    order. One query each."""
    from webapp.decomposition.models import Decomposition

    parent = None
    if run.parent_run_id is not None:
        step = db.session.scalar(select(StepRun.step_key).where(StepRun.id == run.parent_step_run_id))
        parent = {"run_id": run.parent_run_id, "step": step, "attempt": run.parent_attempt, "item": run.parent_item}
    attempts = {step.id: step.attempt for step in run.steps}
    kids: dict[int, list[dict[str, Any]]] = {}
    rows = db.session.execute(select(WorkflowRun.id, WorkflowRun.parent_step_run_id, WorkflowRun.parent_attempt,
                                     WorkflowRun.parent_item, WorkflowRun.status)
                              .where(WorkflowRun.parent_run_id == run.id).order_by(WorkflowRun.parent_item))
    for child_id, step_id, attempt, item, status in rows:
        if attempts.get(step_id) == attempt:
            kids.setdefault(step_id, []).append({"run_id": child_id, "item": item, "status": status})
    decomposition = db.session.scalar(select(Decomposition.id).where(Decomposition.run_id == run.id))
    return {"parent": parent, "decomposition_id": decomposition, "children": kids}
