"""Checkpoints as references: which attempt of each completed step a checkpoint covers.

An auto checkpoint after each completed step stores only that step (``{step_id: attempt}``)
and points at the checkpoint it extends, so a 200-step run stores 200 small rows instead of
copying every output so far into each of them. The chain starts at a full snapshot: the first
checkpoint of a run, and the first after steps were reset by a resume or retry (a reset makes
the old chain no longer describe the run). Folding a chain gives the exact state that a copy
would have held; the outputs come from ``step_attempts``, which never change.

The caller holds the run's lock; nothing here commits.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, func, insert, select, tuple_, update
from sqlalchemy.orm.attributes import set_committed_value

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.runs.models import Checkpoint, StepAttempt, StepRun, WorkflowRun


def _checkpoint_statement():
    """Number the run's next checkpoint, insert it and point the run at it: one statement, built
    once (its cache key is then computed once, not at every step)."""
    table, runs = Checkpoint.__table__, WorkflowRun.__table__
    seq = select(func.coalesce(func.max(table.c.seq), 0) + 1).where(table.c.run_id == bindparam("c_run"))
    new = insert(table).values(
        run_id=bindparam("c_run"), seq=seq.scalar_subquery(), kind=bindparam("c_kind"), note=bindparam("c_note"),
        parent_id=bindparam("c_parent"), steps=bindparam("c_steps", type_=table.c.steps.type),
        created_at=bindparam("c_created"),
    ).returning(table.c.id).cte("new_checkpoint")
    link = update(runs).where(runs.c.id == bindparam("c_run")).values(
        last_checkpoint_id=select(new.c.id).scalar_subquery()).cte("link_run")
    return select(new.c.id).add_cte(link)


TAKE_CHECKPOINT = _checkpoint_statement()


def take_checkpoint(run: WorkflowRun, kind: str = "auto", note: str = "", completed: StepRun | None = None) -> int:
    """Record the run's completed steps: as a delta over ``run.last_checkpoint_id`` when the
    run has one (``completed`` names the step that just finished), else as a full snapshot.
    Returns the new checkpoint's id.

    One statement numbers the checkpoint (the run's lock serialises it), inserts it and points
    the run at it, without flushing the caller's pending changes: they go out with its commit.
    """
    with db.session.no_autoflush:
        if run.last_checkpoint_id is not None:
            steps = {completed.step_key: completed.attempt} if completed is not None else {}
        else:
            steps = {step.step_key: step.attempt for step in run.steps if step.status == "succeeded"}
        checkpoint_id = db.session.execute(TAKE_CHECKPOINT, {
            "c_run": run.id, "c_kind": kind, "c_note": note, "c_parent": run.last_checkpoint_id, "c_steps": steps,
            "c_created": utcnow()}).scalar_one()
    set_committed_value(run, "last_checkpoint_id", checkpoint_id)
    return checkpoint_id


def forget_chain(run: WorkflowRun) -> None:
    """Steps were reset: the next checkpoint must be a full snapshot."""
    run.last_checkpoint_id = None


def fold(checkpoints: list[Checkpoint]) -> dict[int, dict[str, int]]:
    """``{checkpoint id: {step_id: attempt}}`` for checkpoints of one run, each chain folded.

    A parent is always older than its children, so one pass in id order folds every chain.
    """
    covered: dict[int, dict[str, int]] = {}
    for checkpoint in sorted(checkpoints, key=lambda row: row.id):
        covered[checkpoint.id] = {**covered.get(checkpoint.parent_id, {}), **checkpoint.steps}
    return covered


def covered_steps(checkpoint: Checkpoint) -> dict[str, int]:
    """``{step_id: attempt}`` of every step the checkpoint covers, its ancestors' included."""
    rows = db.session.execute(select(Checkpoint).where(Checkpoint.run_id == checkpoint.run_id,
                                                       Checkpoint.id <= checkpoint.id)).scalars().all()
    return fold(list(rows))[checkpoint.id]


def covered_outputs(checkpoint: Checkpoint) -> dict[str, Any]:
    """``{step_id: output}`` exactly as those attempts produced them."""
    covered = covered_steps(checkpoint)
    if not covered:
        return {}
    rows = db.session.execute(
        select(StepRun.step_key, StepAttempt.output).join(StepAttempt, StepAttempt.step_run_id == StepRun.id)
        .where(StepRun.run_id == checkpoint.run_id,
               tuple_(StepRun.step_key, StepAttempt.attempt).in_(list(covered.items())))).all()
    return dict(rows)


def checkpoint_state(checkpoint: Checkpoint, run: WorkflowRun) -> dict[str, Any]:
    """The state a checkpoint stands for, as the API shows it: params and completed outputs."""
    return {"params": run.params, "completed": covered_outputs(checkpoint)}


def delete_checkpoint_row(checkpoint: Checkpoint, run: WorkflowRun) -> None:
    """Delete one checkpoint and keep every later one exact: its children take over its steps
    and its parent."""
    children = db.session.execute(select(Checkpoint).where(Checkpoint.parent_id == checkpoint.id)).scalars().all()
    for child in children:
        child.steps = {**checkpoint.steps, **child.steps}
        child.parent_id = checkpoint.parent_id
    if run.last_checkpoint_id == checkpoint.id:
        run.last_checkpoint_id = None
    db.session.flush()
    db.session.delete(checkpoint)
