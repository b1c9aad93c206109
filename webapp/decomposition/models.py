"""The ``decompositions`` table: a goal, how it was split, the task tree, its plan, and what ran.

A row is stored only once its tree is valid and planned (``planned``); execution links the
generated workflow version and the run (``executed``), or keeps the reason it could not start
(``failed``). The tree and the plan are JSON snapshots: re-planning later with more history
would give other estimates, and the row keeps what the operator saw when they decided to run.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db

STATUSES = ("planned", "executed", "failed")


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
