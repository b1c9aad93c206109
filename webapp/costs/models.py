"""``cost_records``: one row per step attempt that spent money (docs/architecture.md), and
``cost_daily``, their sums per day for the dashboard (docs/costs.md).

Unique on ``(step_run_id, attempt)``: a redelivered job that reaches its commit a second time
fails on the constraint instead of charging twice. Money is ``Numeric``, never float.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db

PRICE = Numeric(20, 10)
TOTAL = Numeric(24, 8)  # a sum of many Numeric(18, 8) amounts, as exact


class CostRecord(db.Model):
    __tablename__ = "cost_records"
    __table_args__ = (
        UniqueConstraint("step_run_id", "attempt", name="uq_cost_records_step_run_id_attempt"),
        # 0006_run_page_indexes: the Overview's "spend today".
        Index("ix_cost_records_created_at", "created_at"),
        # 0005_console_indexes: the run page's costs per step (and ON DELETE CASCADE from a run).
        Index("ix_cost_records_run_id", "run_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    kind: Mapped[str] = mapped_column(String(50))
    model: Mapped[str | None] = mapped_column(String(100), default=None)
    units_in: Mapped[int] = mapped_column(default=0)
    units_out: Mapped[int] = mapped_column(default=0)
    unit_price_in: Mapped[Decimal] = mapped_column(PRICE, default=Decimal("0"))
    unit_price_out: Mapped[Decimal] = mapped_column(PRICE, default=Decimal("0"))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 8))
    # A memo-cache hit spends 0 and records here what the original attempt cost (0010_memory).
    saved: Mapped[Decimal] = mapped_column(Numeric(18, 8), default=Decimal("0"), server_default="0")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    workflow_id: Mapped[int | None] = mapped_column(ForeignKey("workflows.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


NONE_ID = 0  # cost_daily's key for "no workflow" / "no user": ids start at 1
NO_MODEL = ""  # and for "no model"


class CostDaily(db.Model):
    """``cost_daily``: the cost records summed per UTC day, workflow, user, model and currency.

    The dashboard reads these few rows instead of every record of its period, so /costs takes
    the same time at 100,000 runs as at 1,000. ``webapp.costs.recording`` adds each record to
    its day's row in the transaction that writes the record, with an upsert; cost records are
    never changed or deleted afterwards (runs, workflows and users are not deleted), so a row
    only ever grows. A missing workflow, user or model is keyed ``NONE_ID`` or ``NO_MODEL``, not
    NULL: NULLs never conflict in a unique key, so an upsert would add a row per record.
    """

    __tablename__ = "cost_daily"

    day: Mapped[date] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    model: Mapped[str] = mapped_column(String(100), primary_key=True)
    currency: Mapped[str] = mapped_column(String(3), primary_key=True)
    spent: Mapped[Decimal] = mapped_column(TOTAL)
    saved: Mapped[Decimal] = mapped_column(TOTAL)
    records: Mapped[int]
