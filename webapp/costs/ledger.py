"""Reservation accounting on ``budget_periods``: reserve, settle, release, and alerts.

Each budget period is one row. Reserving is one conditional UPDATE on it: for a ``pause`` or
``block`` budget the row changes only while ``spent + reserved + amount <= limit``, and
PostgreSQL re-evaluates that condition after waiting for a concurrent writer's lock, so however
many workers reserve at once the sum they hold never passes the limit. The reservations of one
attempt are taken in budget-id order inside one savepoint: a refusal by any budget undoes the
others, and two claims never wait for each other's rows in opposite orders.

Alerts are rows unique per (budget, period, kind), inserted with ON CONFLICT DO NOTHING: only
the insert that actually wrote the row publishes the event, so an alert fires exactly once per
period even when several workers cross the threshold together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webapp.clock import utcnow
from webapp.costs.budget_models import Budget, BudgetAlert, BudgetPeriod, BudgetReservation
from webapp.costs.models import CostRecord
from webapp.costs.periods import period_start
from webapp.events import publish
from webapp.extensions import db

CENT_FRACTION = Decimal("0.00000001")  # the scale of every money column
ZERO = Decimal("0")


def money_up(amount: Decimal) -> Decimal:
    """Reservations round up, so a rounded upper bound is still an upper bound."""
    return Decimal(amount).quantize(CENT_FRACTION, rounding=ROUND_CEILING)


def money(amount: Decimal) -> Decimal:
    """What a money column stores (PostgreSQL rounds half away from zero)."""
    return Decimal(amount).quantize(CENT_FRACTION, rounding=ROUND_HALF_UP)


def money_text(amount: Decimal) -> str:
    """A money value as the API writes it: a plain decimal string with the columns' 8 places."""
    return format(money(amount), "f")


@dataclass(frozen=True)
class Refusal:
    """A ``pause``/``block`` budget that has not got ``needed`` left in its current period."""

    budget: Budget
    period_start: datetime
    needed: Decimal
    remaining: Decimal


def insert_ignoring_conflicts(model, values: dict, conflict_columns: list[str]):
    """``INSERT ... ON CONFLICT DO NOTHING`` on PostgreSQL and SQLite."""
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    return dialect.insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict_columns)


def applicable_budgets(workflow_id: int | None, user_id: int | None, *, policies: tuple[str, ...] | None = None
                       ) -> list[Budget]:
    """Active budgets for a run: the global ones, its workflow's and its triggering user's."""
    scopes = [Budget.scope == "global"]
    if workflow_id is not None:
        scopes.append(and_(Budget.scope == "workflow", Budget.scope_id == workflow_id))
    if user_id is not None:
        scopes.append(and_(Budget.scope == "user", Budget.scope_id == user_id))
    query = select(Budget).where(Budget.active.is_(True), or_(*scopes))
    if policies is not None:
        query = query.where(Budget.on_exceed.in_(policies))
    return list(db.session.scalars(query.order_by(Budget.id)).all())


def recorded_spend(budget: Budget, start: datetime):
    """The spend already recorded in the budget's scope since ``start`` (a SQL expression)."""
    query = select(func.coalesce(func.sum(CostRecord.amount), 0)).where(CostRecord.created_at >= start)
    if budget.scope == "workflow":
        query = query.where(CostRecord.workflow_id == budget.scope_id)
    elif budget.scope == "user":
        query = query.where(CostRecord.user_id == budget.scope_id)
    return query.scalar_subquery()


def ensure_period(budget: Budget, start: datetime) -> None:
    """Create the period's counters on first use. Its spend starts from what is already recorded
    in the period, so a budget created mid-month sees the month's spend, as the dashboard does."""
    db.session.execute(insert_ignoring_conflicts(
        BudgetPeriod, {"budget_id": budget.id, "period_start": start, "spent": recorded_spend(budget, start),
                       "reserved": ZERO}, ["budget_id", "period_start"]))


def _period_row(budget_id: int, start: datetime):
    return and_(BudgetPeriod.budget_id == budget_id, BudgetPeriod.period_start == start)


def usage_of(budget: Budget, start: datetime) -> tuple[Decimal, Decimal]:
    """``(spent, reserved)`` of one budget period; before its first use, what is recorded in it."""
    row = db.session.execute(select(BudgetPeriod.spent, BudgetPeriod.reserved)
                             .where(_period_row(budget.id, start))).one_or_none()
    if row is None:
        return Decimal(db.session.scalar(select(recorded_spend(budget, start)))), ZERO
    return row.spent, row.reserved


def _take(budgets: list[Budget], starts: dict[int, datetime], amount: Decimal, overridden: set[int]):
    """One UPDATE reserving ``amount`` on each budget whose period row exists and has room;
    returns ``{budget_id: spent + reserved}`` of the rows it changed."""
    rows = []
    for budget in budgets:
        row = _period_row(budget.id, starts[budget.id])
        if budget.on_exceed != "alert" and budget.id not in overridden:
            row = and_(row, BudgetPeriod.spent + BudgetPeriod.reserved + amount <= budget.limit)
        rows.append(row)
    taken = db.session.execute(update(BudgetPeriod).where(or_(*rows)).values(
        reserved=BudgetPeriod.reserved + amount).returning(
        BudgetPeriod.budget_id, BudgetPeriod.spent, BudgetPeriod.reserved).execution_options(
        synchronize_session=False)).all()
    return {row.budget_id: row.spent + row.reserved for row in taken}


def reserve(budgets: list[Budget], amount: Decimal, *, run_id: int, step_run_id: int, attempt: int,
            overridden: set[int] = frozenset()) -> Refusal | None:
    """Reserve ``amount`` on every budget, or on none of them and say which one refused.

    ``alert`` budgets (and budgets an admin overrode for this run) always take the reservation;
    the others only while it fits. All budgets are reserved in one UPDATE (the common case is
    one round trip); a refusal gives back what the others took, in the caller's transaction.
    """
    amount = money_up(amount)
    now = utcnow()
    starts = {budget.id: period_start(budget.period, now) for budget in budgets}
    used = _take(budgets, starts, amount, overridden)
    missing = [budget for budget in budgets if budget.id not in used]
    if missing:  # a period's first reservation creates its row; or a refusal
        for budget in missing:
            ensure_period(budget, starts[budget.id])
        used.update(_take(missing, starts, amount, overridden))
    refused = next((budget for budget in budgets if budget.id not in used), None)
    if refused is not None:
        if used:
            db.session.execute(update(BudgetPeriod).where(or_(*(
                _period_row(budget_id, starts[budget_id]) for budget_id in used))).values(
                reserved=BudgetPeriod.reserved - amount).execution_options(synchronize_session=False))
        start = starts[refused.id]
        spent, reserved = usage_of(refused, start)
        fire_alert(refused, start, "exceeded", spent + reserved + amount)
        return Refusal(refused, start, amount, max(refused.limit - spent - reserved, ZERO))
    db.session.add_all([BudgetReservation(budget_id=budget.id, period_start=starts[budget.id], run_id=run_id,
                                          step_run_id=step_run_id, attempt=attempt, amount=amount)
                        for budget in budgets])
    for budget in budgets:
        check_alerts(budget, starts[budget.id], used[budget.id])
    return None


def _close(step_run_id: int, attempt: int, actual: Decimal, status: str) -> list:
    """Move the attempt's open reservations into spend of ``actual`` (0 to release) in one
    UPDATE of their period rows, then close them; returns the touched periods with their budgets."""
    touched = db.session.execute(update(BudgetPeriod).where(
        BudgetReservation.step_run_id == step_run_id, BudgetReservation.attempt == attempt,
        BudgetReservation.status == "open", BudgetPeriod.budget_id == BudgetReservation.budget_id,
        BudgetPeriod.period_start == BudgetReservation.period_start,
    ).values(spent=BudgetPeriod.spent + actual, reserved=BudgetPeriod.reserved - BudgetReservation.amount).returning(
        BudgetPeriod.budget_id, BudgetPeriod.period_start, BudgetPeriod.spent, BudgetPeriod.reserved,
    ).execution_options(synchronize_session=False)).all()
    if touched:
        db.session.execute(update(BudgetReservation).where(
            BudgetReservation.step_run_id == step_run_id, BudgetReservation.attempt == attempt,
            BudgetReservation.status == "open").values(status=status, settled_amount=actual, closed_at=utcnow())
            .execution_options(synchronize_session=False))
    return touched


def settle(step_run_id: int, attempt: int, actual: Decimal, *, workflow_id: int | None,
           user_id: int | None) -> None:
    """Turn the attempt's reservations into spend of ``actual``.

    An attempt that reserved nothing (a kind without an estimate that spent anyway) is charged
    to every budget that applies now, in its current period. A budget created while a step ran
    does not see that step's spend.
    """
    actual = money(actual)
    touched = _close(step_run_id, attempt, actual, "settled")
    if actual <= 0:
        return
    if touched:  # alerts were checked at reserve time, on spend plus the (larger) reservation
        return
    now = utcnow()
    for budget in applicable_budgets(workflow_id, user_id):
        start = period_start(budget.period, now)
        ensure_period(budget, start)
        check_alerts(budget, start, _move(budget.id, start, spent=actual, reserved=ZERO))


def release(step_run_id: int, attempt: int) -> Decimal:
    """Give back what a failed or crashed attempt reserved; returns the amount released."""
    held = db.session.scalar(select(func.coalesce(func.sum(BudgetReservation.amount), 0)).where(
        BudgetReservation.step_run_id == step_run_id, BudgetReservation.attempt == attempt,
        BudgetReservation.status == "open"))
    if held:
        _close(step_run_id, attempt, ZERO, "released")
    return Decimal(held)


def release_stale() -> int:
    """Release reservations whose attempt is no longer running (a cancelled run's step, or any
    path that ended an attempt without settling it); returns how many."""
    from webapp.runs.models import StepRun

    stale = db.session.scalars(select(BudgetReservation).join(StepRun, StepRun.id == BudgetReservation.step_run_id)
                               .where(BudgetReservation.status == "open",
                                      or_(StepRun.status != "running", StepRun.attempt != BudgetReservation.attempt))
                               .order_by(BudgetReservation.budget_id)
                               .with_for_update(of=BudgetReservation, skip_locked=True)).all()
    for reservation in stale:
        _move(reservation.budget_id, reservation.period_start, spent=ZERO, reserved=-reservation.amount)
        reservation.status, reservation.settled_amount, reservation.closed_at = "released", ZERO, utcnow()
    return len(stale)


def _move(budget_id: int, start: datetime, *, spent: Decimal, reserved: Decimal) -> Decimal:
    """Add to a period's counters; returns its spent + reserved afterwards."""
    row = db.session.execute(update(BudgetPeriod).where(_period_row(budget_id, start)).values(
        spent=BudgetPeriod.spent + spent, reserved=BudgetPeriod.reserved + reserved
    ).returning(BudgetPeriod.spent, BudgetPeriod.reserved).execution_options(synchronize_session=False)).one_or_none()
    return row.spent + row.reserved if row is not None else ZERO


def check_alerts(budget: Budget, start: datetime, used: Decimal) -> None:
    if budget.limit <= 0:
        return
    if used * 100 >= budget.limit * budget.soft_threshold_pct:
        fire_alert(budget, start, "threshold", used)
    if used > budget.limit:
        fire_alert(budget, start, "exceeded", used)


def fire_alert(budget: Budget, start: datetime, kind: str, used: Decimal) -> bool:
    """Insert the period's alert of this kind unless it exists; publish only if this call wrote it."""
    pct = budget.soft_threshold_pct if kind == "threshold" else 100
    inserted = db.session.execute(insert_ignoring_conflicts(
        BudgetAlert, {"budget_id": budget.id, "period_start": start, "kind": kind, "threshold_pct": pct,
                      "used": money(used), "limit": budget.limit, "fired_at": utcnow()},
        ["budget_id", "period_start", "kind"]).returning(BudgetAlert.id)).scalar_one_or_none()
    if inserted is None:
        return False
    publish(f"budget.{kind}", {"budget_id": budget.id, "alert_id": inserted, "period_start": start.isoformat(),
                               "used": money_text(used), "limit": money_text(budget.limit), "threshold_pct": pct})
    return True
