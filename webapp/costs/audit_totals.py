"""``flask costs reconcile``: do the cost records, the step and run totals, the summary, the daily
rollup and the budget counters agree, and is no reservation left open on an attempt that has finished?

Each check is one grouped SQL comparison, so it runs in seconds over hundreds of thousands of
records. ``since`` limits the run and record checks to runs created from that moment on (the
budget checks always cover every open period).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from sqlalchemy import and_, func, or_, select

from webapp.clock import utcnow
from webapp.costs import recording, reports
from webapp.costs.budget_models import BudgetPeriod, BudgetReservation
from webapp.costs.ledger import ZERO, money_text
from webapp.costs.models import CostDaily, CostRecord
from webapp.extensions import db
from webapp.runs.models import StepRun, WorkflowRun

CENT = Decimal("0.01")
# Totals must agree to the cent: a stored total and its records' sum differ when they are half a
# cent apart or more. (SQLite stores amounts as floats, so equal sums can differ in their last
# binary digits; an exact comparison there reported runs whose totals print identically.)
HALF_CENT = Decimal("0.005")
SHOWN = 20  # differences listed per check; the count says how many there are in all


@dataclass
class Findings:
    checked: dict[str, int] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def reconcile_costs(since: datetime | None = None) -> Findings:
    findings = Findings()
    _run_totals(findings, since)
    _step_totals(findings, since)
    _summary(findings, since)
    _daily_rollup(findings)
    _open_reservations(findings)
    _reserved_counters(findings)
    return findings


def _differences(findings: Findings, what: str, rows, describe) -> None:
    rows = list(rows)
    for row in rows[:SHOWN]:
        findings.problems.append(f"{what}: {describe(row)}")
    if len(rows) > SHOWN:
        findings.problems.append(f"{what}: and {len(rows) - SHOWN} more")


def _recorded_by(column, since: datetime | None):
    query = select(column.label("owner"), func.sum(CostRecord.amount).label("recorded")).group_by(column)
    if since is not None:
        query = query.join(WorkflowRun, WorkflowRun.id == CostRecord.run_id).where(WorkflowRun.created_at >= since)
    return query.subquery()


def _run_totals(findings: Findings, since: datetime | None) -> None:
    recorded = _recorded_by(CostRecord.run_id, since)
    total = func.coalesce(recorded.c.recorded, 0)
    query = select(WorkflowRun.id, WorkflowRun.cost_total, total.label("recorded")) \
        .outerjoin(recorded, recorded.c.owner == WorkflowRun.id) \
        .where(func.abs(WorkflowRun.cost_total - total) >= HALF_CENT)
    if since is not None:
        query = query.where(WorkflowRun.created_at >= since)
    runs = select(func.count()).select_from(WorkflowRun)
    findings.checked["runs"] = db.session.scalar(runs.where(WorkflowRun.created_at >= since) if since else runs)
    _differences(findings, "run total", db.session.execute(query.order_by(WorkflowRun.id)),
                 lambda row: f"run {row.id} says {row.cost_total}, its cost records sum to {row.recorded}")


def _step_totals(findings: Findings, since: datetime | None) -> None:
    recorded = _recorded_by(CostRecord.step_run_id, since)
    total = func.coalesce(recorded.c.recorded, 0)
    query = select(StepRun.id, StepRun.run_id, StepRun.step_key, StepRun.cost, total.label("recorded")) \
        .outerjoin(recorded, recorded.c.owner == StepRun.id).where(func.abs(StepRun.cost - total) >= HALF_CENT)
    if since is not None:
        query = query.join(WorkflowRun, WorkflowRun.id == StepRun.run_id).where(WorkflowRun.created_at >= since)
    _differences(findings, "step total", db.session.execute(query.order_by(StepRun.id)),
                 lambda row: f"run {row.run_id} step {row.step_key} says {row.cost}, "
                             f"its cost records sum to {row.recorded}")


def _summary(findings: Findings, since: datetime | None) -> None:
    """Every grouping of the dashboard's summary adds up to the records' own sum, to the cent."""
    first = db.session.scalar(select(func.min(CostRecord.created_at)))
    if first is None:
        return
    span = reports.Window(since or first, utcnow())
    direct = db.session.scalar(reports.in_window(select(func.coalesce(func.sum(CostRecord.amount), 0)), span))
    findings.checked["records"] = db.session.scalar(reports.in_window(select(func.count()), span)) or 0
    for group in reports.GROUPS:
        grouped = sum((Decimal(item["spent"]) for item in reports.grouped(group, span)), ZERO)
        if abs(grouped - Decimal(direct)).quantize(CENT) != 0:
            findings.problems.append(f"summary by {group}: {grouped} against {direct} in the records")
    totals = Decimal(reports.totals(span)["spent"])
    if abs(totals - Decimal(direct)).quantize(CENT) != 0:
        findings.problems.append(f"summary totals: {totals} against {direct} in the records")


def _daily_rollup(findings: Findings) -> None:
    """Every row of the daily rollup holds the sums of its records, and every record has its row.

    Both sides are a few thousand rows even at hundreds of thousands of records; they are
    compared here rather than in SQL because SQLite has no FULL JOIN before 3.39. It covers every
    day, whatever ``since`` says.
    """
    expected = {_rollup_key(row): _sums(row.spent, row.saved, row.records)
                for row in db.session.execute(recording.rollup_sums())}
    held = {_rollup_key(row): _sums(row.spent, row.saved, row.records)
            for row in db.session.scalars(select(CostDaily))}
    findings.checked["daily rollup rows"] = len(held)
    wrong = [(key, held.get(key), expected.get(key)) for key in sorted(expected.keys() | held.keys())
             if held.get(key) != expected.get(key)]
    _differences(findings, "daily rollup", wrong,
                 lambda row: f"{' '.join(row[0])} holds {_sums_text(row[1])}, its records sum to {_sums_text(row[2])}")


def _rollup_key(row) -> tuple[str, ...]:
    return (reports.day_text(row.day), str(row.workflow_id), str(row.user_id), row.model, row.currency)


def _sums(spent, saved, records: int) -> tuple[str, str, int]:
    return money_text(Decimal(spent)), money_text(Decimal(saved)), int(records)


def _sums_text(sums: tuple[str, str, int] | None) -> str:
    return "nothing" if sums is None else f"{sums[0]} spent, {sums[1]} saved in {sums[2]} records"


def _open_reservations(findings: Findings) -> None:
    """An open reservation is only right while its very attempt is running."""
    query = select(BudgetReservation.id, BudgetReservation.run_id, BudgetReservation.attempt, StepRun.step_key,
                   StepRun.status, BudgetReservation.amount) \
        .join(StepRun, StepRun.id == BudgetReservation.step_run_id).where(BudgetReservation.status == "open",
               or_(StepRun.status != "running", StepRun.attempt != BudgetReservation.attempt))
    findings.checked["open reservations"] = db.session.scalar(
        select(func.count()).select_from(BudgetReservation).where(BudgetReservation.status == "open"))
    _differences(findings, "open reservation", db.session.execute(query.order_by(BudgetReservation.id)),
                 lambda row: f"run {row.run_id} step {row.step_key} attempt {row.attempt} holds {row.amount} "
                             f"but the step is {row.status}")


def _reserved_counters(findings: Findings) -> None:
    held = select(BudgetReservation.budget_id, BudgetReservation.period_start,
                  func.sum(BudgetReservation.amount).label("open")).where(BudgetReservation.status == "open") \
        .group_by(BudgetReservation.budget_id, BudgetReservation.period_start).subquery()
    open_sum = func.coalesce(held.c.open, 0)
    query = select(BudgetPeriod.budget_id, BudgetPeriod.period_start, BudgetPeriod.reserved, open_sum.label("open")) \
        .outerjoin(held, and_(held.c.budget_id == BudgetPeriod.budget_id,
                              held.c.period_start == BudgetPeriod.period_start)) \
        .where(BudgetPeriod.reserved != open_sum)
    _differences(findings, "budget reserved", db.session.execute(query),
                 lambda row: f"budget {row.budget_id} period {row.period_start:%Y-%m-%d} counts {row.reserved} "
                             f"reserved, its open reservations sum to {row.open}")
