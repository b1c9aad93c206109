"""The engine's core: trigger a run, move runs and steps through their state machines, pause
and lift a pause, and advance a run (queue what became ready, skip what can no longer run,
finish the run). These are primitives: the caller holds the locks and commits.

Locking: whoever changes a run's steps holds the run row first (``lock_run``, ``LOCK_MODES``), so
two siblings finishing together are serialised and the second one sees the first one's work;
a step is therefore never queued twice. A claim, which moves only its own step, holds the run
row in a mode that lets other claims and records go on beside it, but not an operator.
Starting queued runs holds the workflow row, taken after any run row and never before one,
and skips run rows that another transaction holds.
Every transition writes its event to the outbox in the same transaction.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import joinedload

from webapp.clock import utcnow
from webapp.events import publish
from webapp.exceptions import Conflict, IllegalTransition
from webapp.extensions import db
from webapp.runs import children, states
from webapp.runs.checkpoints import forget_chain
from webapp.runs.dispatch import send_step
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.runs.states import RUN_ACTIVE, STEP_UNFINISHED, STEP_WAITING, check_run_transition, check_step_transition
from webapp.steps.registry import get_kind
from webapp.workflows.models import Workflow, WorkflowVersion
from webapp.workflows.service import get_version, validate_trigger_params


def move_run(run: WorkflowRun, target: str, *, pause_reason: str | None = None, note: str | None = None) -> None:
    """Change the run's status (and a paused run's ``pause_reason``) and publish the change."""
    check_run_transition(run.status, target)
    if (target == "paused") != (pause_reason is not None):
        raise ValueError("a paused run needs a pause reason, and only a paused run has one")
    previous, run.status = run.status, target
    now = utcnow()
    if target == "paused":
        run.pause_reason, run.pause_note = pause_reason, note
        run.paused_at = run.paused_at if previous == "paused" else now
    else:
        run.pause_reason = run.pause_note = run.paused_at = None
    if target == "running" and run.started_at is None:
        run.started_at = now
    if states.is_finished(run):
        run.finished_at = now
        if run.parent_run_id is not None:
            children.child_finished(run)
    publish(f"run.{target}", {"run_id": run.id, "workflow_id": run.workflow_id, "from": previous,
                              **({"pause_reason": pause_reason} if pause_reason else {})})


def move_step(step: StepRun, target: str, **fields: Any) -> None:
    check_step_transition(step.status, target)
    previous, step.status = step.status, target
    for name, value in fields.items():
        setattr(step, name, value)
    publish(f"step.{target}", {"run_id": step.run_id, "step_id": step.step_key,
                               "attempt": step.attempt, "from": previous})


# How strongly ``lock_run`` locks the run row, per caller (PostgreSQL row-lock modes):
# - ``exclusive`` (FOR UPDATE): operators, the reconciler, budgets, children; excludes all others.
# - ``record`` (FOR NO KEY UPDATE): a step recording its outcome; records of one run queue
#   behind each other (so siblings never queue a step twice), claims do not wait for them.
# - ``claim`` (FOR KEY SHARE): a step starting its attempt; claims of one run go side by side
#   and beside a record, but not beside an operator's cancel or pause.
LOCK_MODES = {"exclusive": "UPDATE", "record": "NO KEY UPDATE", "claim": "KEY SHARE"}


def _run_with_plan(*entities):
    """The run with its workflow and version in the same statement (only the run's row is
    locked): the claim and the record of every step read both, and two lazy loads per phase
    were two more round trips each. The version's definition stays unloaded (``plan_for``
    caches the plan by version, and reads the definition only the first time)."""
    return select(WorkflowRun, *entities).options(
        joinedload(WorkflowRun.workflow, innerjoin=True),
        joinedload(WorkflowRun.version, innerjoin=True).load_only(WorkflowVersion.id, WorkflowVersion.definition_hash),
    ).execution_options(populate_existing=True)


# The locking reads, built once per mode: every claim and record runs one, and building one anew
# (and computing its cache key) cost more than the query itself.
LOCK_RUN = {mode: _run_with_plan().where(WorkflowRun.id == bindparam("lock_run_id"))
            .suffix_with(f"FOR {lock} OF workflow_runs") for mode, lock in LOCK_MODES.items()}
LOCK_RUN_AND_STEP = {
    mode: _run_with_plan(StepRun).join(StepRun, StepRun.run_id == WorkflowRun.id)
    .where(WorkflowRun.id == bindparam("lock_run_id"), StepRun.id == bindparam("lock_step_id"))
    .suffix_with(f"FOR {lock} OF workflow_runs FOR UPDATE OF step_runs") for mode, lock in LOCK_MODES.items()}
# The reads of a record, built once for the same reason: the statuses of the steps this session
# has not changed (``distinct_step_states``), and steps by id (``steps_named``).
OTHER_STEP_STATES = select(StepRun.status).distinct().where(
    StepRun.run_id == bindparam("run_id"), StepRun.id.not_in(bindparam("changed", expanding=True)))
STEPS_NAMED = select(StepRun).where(StepRun.run_id == bindparam("run_id"),
                                    StepRun.step_key.in_(bindparam("keys", expanding=True))).order_by(StepRun.position)


def lock_run(run_id: int, *, mode: str = "exclusive") -> WorkflowRun | None:
    """The run row, locked for this transaction (see ``LOCK_MODES``), with fresh values."""
    return db.session.execute(LOCK_RUN[mode], {"lock_run_id": run_id}).scalar_one_or_none()


def lock_run_and_step(run_id: int, step_run_id: int, *, mode: str) -> tuple[WorkflowRun | None, StepRun | None]:
    """The run, locked as ``lock_run`` locks it, and one of its steps, locked FOR UPDATE, in one
    round trip. PostgreSQL takes the row locks in the order of the locking clauses, so the run's
    comes first, as on every other path; ``(None, None)`` if the run has no such step."""
    row = db.session.execute(LOCK_RUN_AND_STEP[mode], {"lock_run_id": run_id, "lock_step_id": step_run_id}
                             ).one_or_none()
    return (row[0], row[1]) if row is not None else (None, None)


def pause_run(run: WorkflowRun, reason: str, note: str | None = None) -> None:
    """Hold the run for ``reason`` (``budget`` or ``operator``): running steps finish, nothing
    new starts, and only ``lift_pause`` with the same reason continues it."""
    if reason not in states.HOLD_REASONS:
        raise ValueError(f"{reason!r} is not a reason to hold a run")
    if not states.can_pause(run):
        raise IllegalTransition(f"Run {run.id} is {describe(run)}; only a running run can be paused.",
                                details={"state": run.status, "pause_reason": run.pause_reason})
    move_run(run, "paused", pause_reason=reason, note=note)


def lift_pause(run: WorkflowRun, reason: str) -> bool:
    """Continue a run held for ``reason``; False (and nothing changes) if it is not held for it.

    Steps that were queued or waiting out a retry while the run was held send their jobs
    again: a job that arrived during the hold found the run held and left the step as it was.
    """
    if not (states.is_held(run) and run.pause_reason == reason):
        return False
    move_run(run, "running")
    plan = plan_for(run.version)
    for step in run.steps:
        if step.status in STEP_WAITING:
            send_step(db.session, step, plan.spec(step.step_key), new_attempt=False)
    advance(run)
    return True


def describe(run: WorkflowRun) -> str:
    """``paused (operator)``, ``running``: the status as people read it."""
    return f"{run.status} ({run.pause_reason})" if run.pause_reason else run.status


def reset_step(run: WorkflowRun, step: StepRun) -> None:
    """Back to ``pending`` with a fresh retry budget; the attempt count keeps growing."""
    move_step(step, "pending", retries=0, error=None, output=None, started_at=None, finished_at=None)
    forget_chain(run)


def queue_step(run: WorkflowRun, step: StepRun) -> None:
    move_step(step, "queued", error=None)
    send_step(db.session, step, plan_for(run.version).spec(step.step_key))


def trigger(workflow: Workflow, params: Any, *, actor_id: int | None,
            idempotency_key: str | None = None, **parent: int) -> tuple[WorkflowRun, bool]:
    """Create a run with all its step rows in one transaction: ``(run, created)``.

    ``parent`` (``parent_run_id`` and the rest) makes it a child run: its parent step starts it
    (webapp/runs/children.py), so ``start_waiting_runs`` leaves it queued.

    A key already used for this workflow returns that run and ``created=False``. The workflow
    row is locked first, which serialises triggers of one workflow: the key check and the
    concurrency count cannot race. The caller commits; jobs go out after the commit.
    """
    workflow = db.session.execute(select(Workflow).where(Workflow.id == workflow.id).with_for_update(key_share=True)
                                  .execution_options(populate_existing=True)).scalar_one()
    if workflow.archived:
        raise Conflict(f"Workflow {workflow.slug} is archived; it cannot be run.", details={"state": "archived"})
    if idempotency_key is not None:
        existing = db.session.scalar(select(WorkflowRun).where(
            WorkflowRun.workflow_id == workflow.id, WorkflowRun.idempotency_key == idempotency_key))
        if existing is not None:
            return existing, False
    version = get_version(workflow)
    resolved = validate_trigger_params(version.definition, params)
    run = WorkflowRun(workflow_id=workflow.id, workflow_version_id=version.id, version=version, params=resolved,
                      triggered_by=actor_id, idempotency_key=idempotency_key, status="queued", **parent)
    run.steps = [StepRun(step_key=spec.id, position=index) for index, spec in enumerate(plan_for(version).steps)]
    db.session.add(run)
    db.session.flush()
    publish("run.queued", {"run_id": run.id, "workflow_id": workflow.id, "from": None})
    start_waiting_runs(workflow.id)
    return run, True


def start_waiting_runs(workflow_id: int) -> None:
    """Start queued runs of a workflow, oldest first, while ``max_concurrent_runs`` allows."""
    # FOR NO KEY UPDATE: it serialises triggers and starts of one workflow without conflicting with the
    # KEY SHARE lock that inserting a cost record (FK to workflows) took earlier in the same transaction;
    # a plain FOR UPDATE there deadlocks two spending steps that finish runs of one workflow at once.
    workflow = db.session.execute(select(Workflow).where(Workflow.id == workflow_id)
                                  .with_for_update(key_share=True)).scalar_one()
    waiting = select(WorkflowRun).where(WorkflowRun.workflow_id == workflow_id, WorkflowRun.status == "queued",
                                        WorkflowRun.parent_run_id.is_(None))
    if workflow.max_concurrent_runs is not None:
        active = db.session.scalar(select(func.count()).select_from(WorkflowRun).where(
            WorkflowRun.workflow_id == workflow_id, WorkflowRun.status.in_(RUN_ACTIVE)))
        free = workflow.max_concurrent_runs - active
        if free <= 0:
            return
        waiting = waiting.limit(free)
    runs = db.session.execute(waiting.order_by(WorkflowRun.id).with_for_update(skip_locked=True)
                              .execution_options(populate_existing=True)).scalars().all()
    for run in runs:
        move_run(run, "running")
        advance(run)


def advance(run: WorkflowRun, *, after: StepRun | None = None) -> None:
    """Queue ready steps, skip those behind a failure, then settle the run's own state.

    The caller holds the run's lock. A held run is left exactly as it is. A pass repeats while
    it changed something, so skips propagate transitively whatever order the definition lists
    its steps in. The passes read every step's status as plain rows and load a step itself
    only when it moves, so finishing one step of a wide run does not build every step again.

    ``after``: the one step whose outcome the caller just recorded. Only the steps that need it
    can have become ready or skippable, so only they and what they need are read
    (``release_dependents``), and the run's state from its steps' distinct statuses: a record
    in a fan-out of n steps no longer reads n rows, which made a whole run O(n^2). That read is
    skipped when the record queued a step and no step of the run can wait for an approval or
    for children: that queued step alone then decides the run's state. A run with a step
    waiting for child runs takes the full pass, which moves that step on too.
    """
    if not states.starts_steps(run):
        return
    if after is not None:
        released = release_dependents(run, after)
        if any(step.status == "queued" for step in released) and not plan_for(run.version).steps_may_wait:
            settle(run, {"queued"})  # no step can wait, so the one it just queued is all that decides
            return
        step_states = distinct_step_states(run)
        if "waiting_children" not in step_states:
            settle(run, step_states)
            return
    status = step_statuses(run)
    if "waiting_children" in status.values():
        children.progress(run)
        status = step_statuses(run)
    plan = plan_for(run.version)
    changed = True
    while changed:
        ready = [spec.id for spec in plan.steps if status[spec.id] == "pending"
                 and decided(status[name] for name in spec.needs)]
        changed = bool(ready)
        for step in steps_named(run, ready):
            release(run, step, [status[name] for name in plan.spec(step.step_key).needs])
            status[step.step_key] = step.status
    settle(run, set(status.values()))


def step_statuses(run: WorkflowRun) -> dict[str, str]:
    """``{step_id: status}`` of the run's steps: the stored ones, overlaid with the statuses this
    session changed and has not flushed yet. Reading them that way instead of flushing first
    lets a step's record send all its changes in the one flush of its commit."""
    changed = unflushed_steps(run)
    with db.session.no_autoflush:
        status = dict(db.session.execute(select(StepRun.step_key, StepRun.status)
                                         .where(StepRun.run_id == run.id)).all())
    status.update({step.step_key: step.status for step in changed})
    return status


def unflushed_steps(run: WorkflowRun) -> list[StepRun]:
    """The run's steps this session changed and has not flushed. Steps without a row yet are
    flushed first, so every step of the run can be read."""
    if any(isinstance(new, StepRun) for new in db.session.new):
        db.session.flush()
    return [step for step in db.session.dirty if isinstance(step, StepRun) and step.run_id == run.id]


def distinct_step_states(run: WorkflowRun) -> set[str]:
    """The set of statuses of the run's steps (``step_statuses(run).values()``) in one small
    read: the distinct stored statuses of the steps this session has not changed, and the
    statuses of those it has (no flush, as in ``step_statuses``)."""
    changed = unflushed_steps(run)
    with db.session.no_autoflush:
        stored = db.session.scalars(OTHER_STEP_STATES, {"run_id": run.id, "changed": [step.id for step in changed]})
        return set(stored) | {step.status for step in changed}


def release_dependents(run: WorkflowRun, finished: StepRun) -> list[StepRun]:
    """``advance``'s passes, limited to what depends on ``finished``: each pass loads the direct
    dependents of the steps the previous one ended, with the steps they need (one read; a step
    already in this session keeps its unflushed status), and releases those now decided. Only
    a skip ends a step here, so only a skip can decide more (a queued step decides nothing).
    Returns the steps it released."""
    plan = plan_for(run.version)
    released: list[StepRun] = []
    ended = [finished.step_key]
    while candidates := {name for key in ended for name in plan.dependents(key)}:
        wanted = candidates.union(*(plan.spec(name).needs for name in candidates))
        loaded = steps_named(run, wanted)
        steps = {step.step_key: step for step in loaded}
        ready = [step for step in loaded if step.step_key in candidates and step.status == "pending"
                 and decided(steps[need].status for need in plan.spec(step.step_key).needs)]
        for step in ready:
            release(run, step, [steps[need].status for need in plan.spec(step.step_key).needs])
        released += ready
        ended = [step.step_key for step in ready if step.status == "skipped"]
    return released


def steps_named(run: WorkflowRun, step_ids) -> list[StepRun]:
    """The run's steps with these ids, in definition order (no flush first: a step already in
    this session keeps its unflushed changes, and ``step_statuses`` has seen them)."""
    if not step_ids:
        return []
    with db.session.no_autoflush:
        return list(db.session.scalars(STEPS_NAMED, {"run_id": run.id, "keys": list(step_ids)}))


def decided(needs) -> bool:
    """Whether a pending step can be released or skipped now: all it needs succeeded, or one
    of them ended another way."""
    needs = list(needs)
    return all(state == "succeeded" for state in needs) or any(
        state not in ("succeeded", *STEP_UNFINISHED) for state in needs)


def release(run: WorkflowRun, step: StepRun, needs: list[str]) -> None:
    """Skip a pending step behind a failure, or start it once all it needs succeeded."""
    if any(state not in ("succeeded", *STEP_UNFINISHED) for state in needs):
        move_step(step, "skipped", finished_at=utcnow())
    elif get_kind(plan_for(run.version).spec(step.step_key).uses).waits_for_approval:
        move_step(step, "waiting_approval", started_at=utcnow())
    else:
        queue_step(run, step)


def settle(run: WorkflowRun, step_states: set[str] | None = None) -> None:
    """Move the run to the state its steps call for (see ``states.settled_status``)."""
    if step_states is None:
        step_states = distinct_step_states(run)
    target = states.settled_status(run, step_states)
    if target is None or target == (run.status, run.pause_reason):
        return
    status, reason = target
    if run.status == "paused" and status != "paused":
        move_run(run, "running")  # a decided gate: the run goes on, and may finish right away
        if status == "running":
            return
    if status == "failed":
        broken = [f"{step.step_key} {step.status}" for step in run.steps if step.status in states.STEP_BROKEN]
        run.error = "; ".join(broken) or "some steps did not succeed"
    move_run(run, status, pause_reason=reason)
    if states.is_finished(run):
        start_waiting_runs(run.workflow_id)
