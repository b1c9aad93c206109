"""The ``decompositions`` table: a goal, how it was split, the task tree, its plan, and what ran.

Statuses and their transitions (``TRANSITIONS``, applied by ``move`` and nowhere else):

- ``draft``: saved as the operator wrote it (goal, strategy, input), valid or not, with no tree
  and no plan: the strategy has not run (``llm`` may call a paid provider). A draft can be
  edited (draft -> draft) and planned, which checks it like a new decomposition: valid, it
  becomes ``planned``; invalid, it stays a draft and the answer lists every problem.
- ``planned``: valid, with its tree and plan. Created so directly, or from a draft.
- ``executed``: its workflow version and run exist and are linked. Final.
- ``failed``: the workflow could not be created (name taken, too large), with the reason;
  executing again (with another name) is allowed.

The tree and the plan are JSON snapshots: re-planning later with more history would give other
estimates, and the row keeps what the operator saw when they decided to run.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.exceptions import IllegalTransition
from webapp.extensions import db

TRANSITIONS: dict[str, frozenset[str]] = {
    "draft": frozenset({"draft", "planned"}),
    "planned": frozenset({"executed", "failed"}),
    "failed": frozenset({"executed", "failed"}),
    "executed": frozenset(),
}
STATUSES = tuple(TRANSITIONS)


class Decomposition(db.Model):
    __tablename__ = "decompositions"
    __table_args__ = (Index("ix_decompositions_created_at_id", "created_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    goal: Mapped[str] = mapped_column(Text)
    strategy: Mapped[str] = mapped_column(String(40))
    input: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    tree: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    plan: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default="planned")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"), default=None)
    workflow_version: Mapped[int | None] = mapped_column(default=None)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("workflow_runs.id", ondelete="SET NULL"), default=None)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    executed_at: Mapped[datetime | None] = mapped_column(default=None)

    workflow = relationship("Workflow")

    def __repr__(self) -> str:
        return f"<Decomposition {self.id} {self.status}>"


def check_move(decomposition: Decomposition, status: str) -> None:
    """``IllegalTransition`` (409) unless the current status allows ``status``."""
    allowed = TRANSITIONS[decomposition.status]
    if status not in allowed:
        action = {"draft": "edited", "planned": "planned"}.get(status, "executed")
        ran = f" as run {decomposition.run_id}" if decomposition.run_id else ""
        raise IllegalTransition(f"Decomposition {decomposition.id} is {decomposition.status}{ran}, so it cannot be "
                                f"{action}.", details={"state": decomposition.status, "run_id": decomposition.run_id})


def move(decomposition: Decomposition, status: str) -> None:
    check_move(decomposition, status)
    decomposition.status = status
