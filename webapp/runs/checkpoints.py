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

from sqlalchemy import func, insert, select, tuple_, update
from sqlalchemy.orm.attributes import set_committed_value

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.runs.models import Checkpoint, StepAttempt, StepRun, WorkflowRun


def take_checkpoint(run: WorkflowRun, kind: str = "auto", note: str = "",
                    completed: StepRun | None = None) -> Checkpoint:
    """Record the run's completed steps: as a delta over ``run.last_checkpoint_id`` when the
    run has one (``completed`` names the step that just finished), else as a full snapshot.

    One statement numbers the checkpoint (the run's lock serialises it), inserts it and points
    the run at it, without flushing the caller's pending changes: they go out with its commit.
    """
    with db.session.no_autoflush:
        if run.last_checkpoint_id is not None:
            steps = {completed.step_key: completed.attempt} if completed is not None else {}
        else:
            steps = {step.step_key: step.attempt for step in run.steps if step.status == "succeeded"}
        seq = select(func.coalesce(func.max(Checkpoint.seq), 0) + 1).where(Checkpoint.run_id == run.id)
        new = insert(Checkpoint).values(run_id=run.id, seq=seq.scalar_subquery(), kind=kind, note=note,
                                        parent_id=run.last_checkpoint_id, steps=steps, created_at=utcnow()
                                        ).returning(*Checkpoint.__table__.c).cte("new_checkpoint")
        runs = WorkflowRun.__table__
        link = update(runs).where(runs.c.id == run.id).values(
            last_checkpoint_id=select(new.c.id).scalar_subquery()).cte("link_run")
        checkpoint = db.session.scalars(select(Checkpoint).from_statement(select(new).add_cte(link))).one()
    set_committed_value(run, "last_checkpoint_id", checkpoint.id)
    return checkpoint


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
