"""The Overview's read model: runs over time stacked by status, and what needs an operator.

Every function is one or two statements served by the run indexes, and none loads run rows
beyond the few it lists. Time buckets are computed in SQL (``bucket_index``) so the chart costs
one grouped scan of the window's ``(created_at, status)`` index entries, not one row per run
in Python.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import ColumnElement, Integer, cast, func, literal, or_, select

from webapp.costs.budget_models import Budget
from webapp.costs.ledger import usage_of
from webapp.costs.periods import period_start
from webapp.costs.scopes import budget_label
from webapp.extensions import db
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.states import RUN_STATES
from webapp.workflows.models import Workflow

# window name -> (bucket width, number of buckets): 24 hourly bars, or 28 bars of 6 hours.
WINDOWS = {"24h": (timedelta(hours=1), 24), "7d": (timedelta(hours=6), 28)}
ATTENTION_LIMIT = 8
BUDGET_LIMIT = 5


@dataclass(frozen=True)
class Bucket:
    start: datetime
    end: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def bucket_index(start: datetime, width: timedelta) -> ColumnElement[int]:
    """Which bucket a run's ``created_at`` falls in, as SQL for the session's dialect."""
    seconds = width.total_seconds()
    if db.session.get_bind().dialect.name == "sqlite":
        elapsed = (func.julianday(WorkflowRun.created_at) - func.julianday(literal(start.isoformat()))) * 86400
    else:
        elapsed = func.extract("epoch", WorkflowRun.created_at - literal(start))
    return cast(func.floor(elapsed / seconds), Integer)


def window_start(now: datetime, window: str) -> datetime:
    """Buckets end at the next whole bucket boundary, so the newest bar is the one filling up now."""
    width, count = WINDOWS[window]
    step = int(width.total_seconds())
    epoch = int(now.timestamp())
    end = datetime.fromtimestamp(epoch - epoch % step + step, tz=now.tzinfo)
    return end - width * count


def runs_over_time(now: datetime, window: str) -> list[Bucket]:
    width, count = WINDOWS[window]
    start = window_start(now, window)
    index = bucket_index(start, width).label("bucket")
    rows = db.session.execute(
        select(index, WorkflowRun.status, func.count())
        .where(WorkflowRun.created_at >= start, WorkflowRun.created_at < start + width * count)
        .group_by(index, WorkflowRun.status)).all()
    counts: list[dict[str, int]] = [dict.fromkeys(RUN_STATES, 0) for _ in range(count)]
    for position, status, number in rows:
        if 0 <= position < count and status in counts[position]:
            counts[position][status] += number
    return [Bucket(start + width * i, start + width * (i + 1), counts[i]) for i in range(count)]


@dataclass(frozen=True)
class Attention:
    """One line of "needs attention": a failed run, a paused run with its reason, or a waiting gate."""

    kind: str  # "failed", "paused" or "gate"
    run_id: int
    workflow: str
    at: datetime
    detail: str
    step: str | None = None


def first_line(text: str | None, limit: int = 160) -> str:
    line = (text or "").strip().splitlines()[-1:] or [""]
    return line[0][:limit]


def needs_attention(limit: int = ATTENTION_LIMIT) -> list[Attention]:
    """Failed runs (a retry or resume continues the same run, so a fixed failure is no longer
    ``failed``), runs paused by a budget or an operator and why, and gates waiting for approval
    (their runs are paused too, for ``approval``: listed once, as the gate); newest first."""
    failed = db.session.execute(
        select(WorkflowRun.id, Workflow.slug, WorkflowRun.finished_at, WorkflowRun.created_at, WorkflowRun.error)
        .join(Workflow, Workflow.id == WorkflowRun.workflow_id).where(WorkflowRun.status == "failed")
        .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc()).limit(limit)).all()
    paused = db.session.execute(
        select(WorkflowRun.id, Workflow.slug, WorkflowRun.paused_at, WorkflowRun.created_at, WorkflowRun.pause_reason,
               WorkflowRun.pause_note)
        .join(Workflow, Workflow.id == WorkflowRun.workflow_id)
        .where(WorkflowRun.status == "paused",
               or_(WorkflowRun.pause_reason.is_(None), WorkflowRun.pause_reason != "approval"))
        .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc()).limit(limit)).all()
    gates = db.session.execute(
        select(StepRun.run_id, Workflow.slug, StepRun.started_at, WorkflowRun.created_at, StepRun.step_key)
        .join(WorkflowRun, WorkflowRun.id == StepRun.run_id).join(Workflow, Workflow.id == WorkflowRun.workflow_id)
        .where(StepRun.status == "waiting_approval")
        .order_by(StepRun.id.desc()).limit(limit)).all()
    items = [Attention("failed", run_id, slug, finished or created, first_line(error) or "failed")
             for run_id, slug, finished, created, error in failed]
    items += [Attention("paused", run_id, slug, paused_at or created,
                        f"paused by {reason or 'an operator'}" + (f": {note}" if note else ""))
              for run_id, slug, paused_at, created, reason, note in paused]
    items += [Attention("gate", run_id, slug, started or created, f"gate {step} is waiting for approval", step)
              for run_id, slug, started, created, step in gates]
    return sorted(items, key=lambda item: item.at, reverse=True)


def has_runs() -> bool:
    return db.session.scalar(select(WorkflowRun.id).limit(1)) is not None


def example_slug(slug: str = "hello") -> str | None:
    """The shipped example's slug when it is imported and live, for the empty state's button."""
    return db.session.scalar(select(Workflow.slug).where(Workflow.slug == slug, Workflow.archived.is_(False)))


@dataclass(frozen=True)
class BudgetLine:
    """One active budget's current period on the Overview: spent (reservations included) against its limit."""

    budget_id: int
    label: str
    period: str
    used: Decimal
    limit: Decimal
    currency: str
    soft_threshold_pct: int = 80

    @property
    def soft_limit(self) -> Decimal:
        """Where the meter turns from fine to a warning: the budget's own alert threshold."""
        return self.limit * self.soft_threshold_pct / 100

    @property
    def percent(self) -> int:
        return min(100, round(self.used / self.limit * 100)) if self.limit else 0


def budget_lines(now: datetime, limit: int = BUDGET_LIMIT) -> list[BudgetLine]:
    """Active budgets (oldest first, at most ``limit``), each one read of its period row."""
    budgets = db.session.scalars(select(Budget).where(Budget.active.is_(True)).order_by(Budget.id).limit(limit)).all()
    lines = []
    for budget in budgets:
        spent, reserved = usage_of(budget, period_start(budget.period, now))
        lines.append(BudgetLine(budget.id, budget_label(budget), budget.period, spent + reserved, budget.limit,
                                budget.currency, budget.soft_threshold_pct))
    return lines
