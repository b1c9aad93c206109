"""Budgets, their per-period usage counters, reservations, alerts and the holds on paused runs.

``budget_periods`` is the one row that concurrent claims contend for: a reservation is a single
conditional ``UPDATE ... SET reserved = reserved + x WHERE spent + reserved + x <= limit`` on
it, so two workers can never both take the last headroom (PostgreSQL re-checks the condition
after waiting for the row lock). ``budget_reservations`` remembers what each step attempt took,
so settling and releasing move exactly that amount back. ``budget_alerts`` is unique per
budget, period and kind: an alert fires once per period however many workers cross the line
together. ``budget_holds`` names the budget that paused a run, which the run page shows and
which raising the budget, a new period or an admin's override clears.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, Index, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db

MONEY = Numeric(18, 8)
SCOPES = ("global", "user", "workflow")
PERIODS = ("day", "week", "month", "total")
ON_EXCEED = ("alert", "pause", "block")
ALERT_KINDS = ("threshold", "exceeded")
RESERVATION_STATES = ("open", "settled", "released")
HOLD_STATES = ("active", "lifted", "overridden")


class Budget(db.Model):
    __tablename__ = "budgets"
    __table_args__ = (
        CheckConstraint("scope IN ('global', 'user', 'workflow')", name="scope"),
        CheckConstraint("period IN ('day', 'week', 'month', 'total')", name="period"),
        CheckConstraint("on_exceed IN ('alert', 'pause', 'block')", name="on_exceed"),
        Index("ix_budgets_scope_scope_id", "scope", "scope_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    scope: Mapped[str] = mapped_column(String(16))
    # The workflow's id or the user's id; None for the global scope. The API speaks slugs.
    scope_id: Mapped[int | None] = mapped_column(default=None)
    period: Mapped[str] = mapped_column(String(8))
    limit: Mapped[Decimal] = mapped_column(MONEY)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    soft_threshold_pct: Mapped[int] = mapped_column(default=80)
    on_exceed: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(default=True)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    def __repr__(self) -> str:
        return f"<Budget {self.id} {self.scope}:{self.scope_id} {self.period} {self.limit} {self.on_exceed}>"


class BudgetPeriod(db.Model):
    __tablename__ = "budget_periods"
    __table_args__ = (UniqueConstraint("budget_id", "period_start", name="uq_budget_periods_budget_id_period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    period_start: Mapped[datetime]
    spent: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    reserved: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))


class BudgetReservation(db.Model):
    __tablename__ = "budget_reservations"
    __table_args__ = (
        UniqueConstraint("budget_id", "step_run_id", "attempt", name="uq_budget_reservations_budget_id_step_run_id"),
        Index("ix_budget_reservations_step_run_id_attempt", "step_run_id", "attempt"),
        Index("ix_budget_reservations_status", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    period_start: Mapped[datetime]
    run_id: Mapped[int] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    step_run_id: Mapped[int] = mapped_column(ForeignKey("step_runs.id", ondelete="CASCADE"))
    attempt: Mapped[int]
    amount: Mapped[Decimal] = mapped_column(MONEY)
    settled_amount: Mapped[Decimal | None] = mapped_column(MONEY, default=None)
    status: Mapped[str] = mapped_column(String(10), default="open")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)


class BudgetAlert(db.Model):
    __tablename__ = "budget_alerts"
    __table_args__ = (
        UniqueConstraint("budget_id", "period_start", "kind", name="uq_budget_alerts_budget_id_period_start"),
        CheckConstraint("kind IN ('threshold', 'exceeded')", name="kind"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    period_start: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(10))
    threshold_pct: Mapped[int]
    used: Mapped[Decimal] = mapped_column(MONEY)
    limit: Mapped[Decimal] = mapped_column(MONEY)
    fired_at: Mapped[datetime] = mapped_column(default=utcnow)


class BudgetHold(db.Model):
    __tablename__ = "budget_holds"
    __table_args__ = (
        Index("ix_budget_holds_run_id", "run_id"),
        Index("ix_budget_holds_status_budget_id", "status", "budget_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("workflow_runs.id", ondelete="CASCADE"))
    budget_id: Mapped[int] = mapped_column(ForeignKey("budgets.id", ondelete="CASCADE"))
    step_key: Mapped[str] = mapped_column(String(100))
    period_start: Mapped[datetime]
    needed: Mapped[Decimal] = mapped_column(MONEY)
    remaining: Mapped[Decimal] = mapped_column(MONEY)
    status: Mapped[str] = mapped_column(String(10), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(default=None)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)

    budget: Mapped[Budget] = relationship()


class Price(db.Model):
    """A model's price per 1,000 tokens from ``effective_from`` on; rows are never rewritten."""

    __tablename__ = "prices"
    __table_args__ = (UniqueConstraint("model", "effective_from", name="uq_prices_model_effective_from"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    model: Mapped[str] = mapped_column(String(100))
    input_per_1k: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    output_per_1k: Mapped[Decimal] = mapped_column(Numeric(20, 10))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    effective_from: Mapped[datetime]
    source: Mapped[str] = mapped_column(String(16), default="admin")
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
