"""``workflow_runs``, ``step_runs``, ``step_attempts`` and ``checkpoints``.

A run pins the workflow version it started with. Every step of that version gets its row when
the run is created, so "which steps exist" never depends on Redis. ``attempt`` only grows, also
across resumes, which keeps ``(step_run_id, attempt)`` a unique name for one execution: its
``step_attempts`` row and its cost records hang off it. ``retries`` counts the retries used
since the step was last reset, which is what the retry policy limits.

A step's ``output`` is its current one; each attempt keeps its own, so checkpoints refer to
attempts instead of copying outputs (see ``Checkpoint``).
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db

MONEY = Numeric(18, 8)
HAS_PARENT = text("parent_run_id IS NOT NULL")


class WorkflowRun(db.Model):
    __tablename__ = "workflow_runs"
    __table_args__ = (
        UniqueConstraint("workflow_id", "idempotency_key", name="uq_workflow_runs_workflow_id_idempotency_key"),
        Index("ix_workflow_runs_workflow_id_status", "workflow_id", "status"),
        Index("ix_workflow_runs_created_at_id", "created_at", "id"),
        # 0005_console_indexes: a workflow's newest runs (workflow list stats, recent runs).
        Index("ix_workflow_runs_workflow_id_created_at_id", "workflow_id", "created_at", "id"),
        # 0005_console_indexes: the Overview's last-24-hours counts by status, as an index-only scan.
        Index("ix_workflow_runs_created_at_status", "created_at", "status"),
        # 0006_run_page_indexes: /runs?status=..., newest first, and the Overview's status counts.
        Index("ix_workflow_runs_status_created_at_id", "status", "created_at", "id"),
        # 0012_child_runs: a waiting task.decompose step reads its children in item order.
        Index("ix_workflow_runs_parent_step", "parent_step_run_id", "parent_attempt", "parent_item"),
        # 0016_child_runs_parent_index: the run page's child runs (``children``, in id order);
        # without it every run page scans every run. Partial: most runs have no parent, so the
        # index holds the child runs only.
        Index("ix_workflow_runs_parent_run_id_id", "parent_run_id", "id",
              postgresql_where=HAS_PARENT, sqlite_where=HAS_PARENT),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"))
    workflow_version_id: Mapped[int] = mapped_column(ForeignKey("workflow_versions.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(16), default="queued")
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    triggered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    idempotency_key: Mapped[str | None] = mapped_column(String(200), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    cost_total: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    error: Mapped[str | None] = mapped_column(Text, default=None)
    pause_reason: Mapped[str | None] = mapped_column(String(16), default=None)
    pause_note: Mapped[str | None] = mapped_column(String(500), default=None)
    paused_at: Mapped[datetime | None] = mapped_column(default=None)
    # No foreign keys: checkpoints already point at runs, and a cycle would complicate deletes.
    resumed_from_checkpoint_id: Mapped[int | None] = mapped_column(default=None)
    # The checkpoint whose state the run's next auto checkpoint extends; None after a reset.
    last_checkpoint_id: Mapped[int | None] = mapped_column(default=None)
    # A child run of a ``task.decompose`` step: that step, the attempt that started it and the
    # item it is for (webapp/runs/children.py). None for every run started otherwise.
    parent_run_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"),
                                                      default=None)
    # No foreign key to step_runs: a second one between the two tables would make every join of
    # runs and steps ambiguous, and the parent run's key already cascades.
    parent_step_run_id: Mapped[int | None] = mapped_column(default=None)
    parent_attempt: Mapped[int | None] = mapped_column(default=None)
    parent_item: Mapped[int | None] = mapped_column(default=None)

    steps: Mapped[list[StepRun]] = relationship(back_populates="run", order_by="StepRun.position",
                                                cascade="all, delete-orphan")
    workflow = relationship("Workflow")
    version = relationship("WorkflowVersion")
    children: Mapped[list[WorkflowRun]] = relationship(
        foreign_keys=[parent_run_id], order_by="WorkflowRun.id", viewonly=True)

    def step(self, step_key: str) -> StepRun | None:
        return next((step for step in self.steps if step.step_key == step_key), None)

    def __repr__(self) -> str:
        return f"<WorkflowRun {self.id} {self.status}>"


class StepRun(db.Model):
    __tablename__ = "step_runs"
    __table_args__ = (
        UniqueConstraint("run_id", "step_key", name="uq_step_runs_run_id_step_key"),
        Index("ix_step_runs_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempt: Mapped[int] = mapped_column(default=0)
    retries: Mapped[int] = mapped_column(default=0)
    rq_job_id: Mapped[str | None] = mapped_column(String(100), default=None)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    output: Mapped[Any | None] = mapped_column(JSON, default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    cache_hit: Mapped[bool] = mapped_column(default=False)

    run: Mapped[WorkflowRun] = relationship(back_populates="steps")
    attempts: Mapped[list[StepAttempt]] = relationship(order_by="StepAttempt.attempt", viewonly=True)

    def __repr__(self) -> str:
        return f"<StepRun {self.run_id}/{self.step_key} {self.status} #{self.attempt}>"


class StepAttempt(db.Model):
    """One execution of a step (or one gate decision), kept after retries and resumes.

    ``status`` is ``running`` until the attempt ends ``succeeded``, ``failed``, ``crashed`` or
    ``cancelled``. ``queued_at`` is when its job was sent, so ``started_at - queued_at`` is the
    time it waited (a retry's backoff included).
    """

    __tablename__ = "step_attempts"
    __table_args__ = (
        UniqueConstraint("step_run_id", "attempt", name="uq_step_attempts_step_run_id_attempt"),
        Index("ix_step_attempts_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    status: Mapped[str] = mapped_column(String(20), default="running")
    job_id: Mapped[str | None] = mapped_column(String(100), default=None)
    queue: Mapped[str | None] = mapped_column(String(64), default=None)
    worker: Mapped[str | None] = mapped_column(String(200), default=None)
    queued_at: Mapped[datetime | None] = mapped_column(default=None)
    started_at: Mapped[datetime | None] = mapped_column(default=None)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    traceback: Mapped[str | None] = mapped_column(Text, default=None)
    output: Mapped[Any | None] = mapped_column(JSON, default=None)
    output_bytes: Mapped[int | None] = mapped_column(default=None)
    cost: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    logs: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, default=None)  # webapp/runs/attempt_logs.py

    def __repr__(self) -> str:
        return f"<StepAttempt {self.step_run_id}#{self.attempt} {self.status}>"


class Checkpoint(db.Model):
    """The completed steps of a run at one moment, as references to their attempts.

    ``steps`` maps step ids to attempt numbers; the outputs stay in ``step_attempts``. A
    checkpoint with a ``parent_id`` holds only the steps completed since its parent, so an auto
    checkpoint after every step costs one small row, not a copy of every output so far
    (webapp/runs/checkpoints.py folds the chain back into a full state).
    """

    __tablename__ = "checkpoints"
    __table_args__ = (UniqueConstraint("run_id", "seq", name="uq_checkpoints_run_id_seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    seq: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10), default="auto")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("checkpoints.id", ondelete="CASCADE"), default=None)
    steps: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Checkpoint {self.run_id}#{self.seq} {self.kind}>"
