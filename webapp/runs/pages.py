"""The queries behind the run pages and the Overview numbers (no ``request`` here).

The run list reuses ``service.runs_query`` (the API's query) and only narrows it: an
``in_progress`` pseudo-status (queued, running or paused) and a time-range preset, so a number
on the Overview and the list it links to are the same WHERE clause. Every count is one
aggregate statement served by an index (migration 0006_run_page_indexes), so the Overview stays
fast at 100,000 runs.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import Select, func, select

from webapp.costs.models import CostRecord
from webapp.exceptions import DomainError, InvalidInput
from webapp.extensions import db
from webapp.runs import actions, states
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.service import money, runs_query
from webapp.runs.states import RUN_IN_PROGRESS, RUN_STATES

NEEDS_ATTENTION = "failed"
RANGES = {"1h": timedelta(hours=1), "24h": timedelta(hours=24), "7d": timedelta(days=7), "30d": timedelta(days=30)}
STATUS_FILTERS = (*RUN_STATES, "in_progress")


def start_of_day(now: datetime) -> datetime:
    return now.replace(hour=0, minute=0, second=0, microsecond=0)


def range_start(preset: str | None, now: datetime) -> datetime | None:
    """``today`` is since midnight UTC; the others are rolling windows ending now."""
    if preset == "today":
        return start_of_day(now)
    return now - RANGES[preset] if preset in RANGES else None


def filtered_runs(*, status: str | None, workflow: str | None, triggered_by: int | None,
                  since: datetime | None, after: tuple[datetime, int] | None) -> Select:
    """The /runs query: the API's, with ``in_progress`` standing for the three live states, and
    without step rows (the list shows their counts, ``step_counts``; loading 500 step rows with
    their outputs was most of the page's time)."""
    query = runs_query(status=None if status == "in_progress" else status, workflow=workflow,
                       triggered_by=triggered_by, since=since, after=after, with_steps=False)
    return query.where(WorkflowRun.status.in_(RUN_IN_PROGRESS)) if status == "in_progress" else query


def step_counts(run_ids: list[int]) -> dict[int, tuple[int, int]]:
    """``{run_id: (succeeded steps, all steps)}`` for one page of runs, in one grouped query."""
    rows = db.session.execute(select(StepRun.run_id, func.count().filter(StepRun.status == "succeeded"), func.count())
                              .where(StepRun.run_id.in_(run_ids)).group_by(StepRun.run_id)).all()
    return {run_id: (succeeded, total) for run_id, succeeded, total in rows}


@dataclass
class OverviewNumbers:
    last_day: dict[str, int] = field(default_factory=dict)
    in_progress: int = 0
    needs_attention: int = 0
    spend_today: Decimal = Decimal("0")

    @property
    def spend_text(self) -> str:
        return money(self.spend_today)

    @property
    def last_day_total(self) -> int:
        return sum(self.last_day.values())


def overview_numbers(now: datetime) -> OverviewNumbers:
    """Four aggregate statements. "Needs attention" is every run that is ``failed`` now: retry
    and resume continue the SAME run, so a failure they fixed is no longer ``failed`` and drops out."""
    last_day = dict(db.session.execute(
        select(WorkflowRun.status, func.count()).where(WorkflowRun.created_at >= now - RANGES["24h"])
        .group_by(WorkflowRun.status)).all())
    in_progress = db.session.scalar(select(func.count()).select_from(WorkflowRun)
                                    .where(WorkflowRun.status.in_(RUN_IN_PROGRESS)))
    needs_attention = db.session.scalar(select(func.count()).select_from(WorkflowRun)
                                        .where(WorkflowRun.status == NEEDS_ATTENTION))
    spend = db.session.scalar(select(func.coalesce(func.sum(CostRecord.amount), 0))
                              .where(CostRecord.created_at >= start_of_day(now)))
    return OverviewNumbers({status: last_day.get(status, 0) for status in RUN_STATES}, in_progress or 0,
                           needs_attention or 0, Decimal(spend or 0))


@dataclass(frozen=True)
class BulkPlan:
    """What a bulk action will do: the runs it acts on, and the others with the reason."""

    action: str
    eligible: list[WorkflowRun]
    refused: list[tuple[WorkflowRun, str]]
    missing: list[int]


BULK_ACTIONS = {
    "cancel": (states.can_cancel, "only queued, running or paused runs can be cancelled"),
    "retry": (states.can_retry, "only failed or cancelled runs can be retried"),
}


def plan_bulk(action: str, run_ids: list[int]) -> BulkPlan:
    if action not in BULK_ACTIONS:
        raise InvalidInput(f"Unknown bulk action {action!r}.", details={"fields": {"action": "unknown action"}})
    allowed, reason = BULK_ACTIONS[action]
    runs = db.session.execute(select(WorkflowRun).where(WorkflowRun.id.in_(run_ids))
                              .order_by(WorkflowRun.id)).scalars().all()
    found = {run.id for run in runs}
    return BulkPlan(action, [run for run in runs if allowed(run)],
                    [(run, f"it is {run.status}; {reason}") for run in runs if not allowed(run)],
                    [run_id for run_id in run_ids if run_id not in found])


def perform_bulk(action: str, run_ids: list[int], actor) -> tuple[list[int], list[tuple[int, str]]]:
    """Act on each still-eligible run through the same action the API calls (each audited and
    committed on its own); a run that changed state since the confirmation is reported, not forced."""
    plan = plan_bulk(action, run_ids)
    perform = actions.cancel if action == "cancel" else actions.retry_run
    done, refused = [], [(run.id, reason) for run, reason in plan.refused]
    for run in plan.eligible:
        try:
            perform(run.id, actor)
            done.append(run.id)
        except DomainError as error:
            db.session.rollback()
            refused.append((run.id, error.message))
    refused.extend((run_id, "it does not exist") for run_id in plan.missing)
    return done, refused
