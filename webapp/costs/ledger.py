"""Reservation accounting on ``budget_periods``: reserve, settle, release, and alerts.

Each budget period is one row. Reserving is one conditional UPDATE of the rows of every budget
that applies: a ``pause`` or ``block`` budget's row changes only while ``spent + reserved +
amount <= limit``, and PostgreSQL re-evaluates that condition after waiting for a concurrent
writer's lock, so however many workers reserve at once the sum they hold never passes the
limit. On PostgreSQL the same statement also books the attempt's ``budget_reservations`` rows
(a data-modifying WITH), and settling closes them and moves their amounts into spend in one
statement too. A refusal by any budget gives back what the others took, in the caller's
transaction.

Which budgets apply comes from the process's copy of the active budgets (webapp/costs/cache.py),
so a step with no budget sends no SQL for budgets at claim. At settle, the spend is charged to
every budget that applies then, including one created while the step ran, which held no
reservation for it.

Alerts are rows unique per (budget, period, kind), inserted with ON CONFLICT DO NOTHING: only
the insert that actually wrote the row publishes the event, so an alert fires exactly once per
period even when several workers cross the threshold together.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from functools import lru_cache

from sqlalchemy import and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from webapp.clock import utcnow
from webapp.costs.budget_models import MONEY, Budget, BudgetAlert, BudgetPeriod, BudgetReservation
from webapp.costs.cache import cached
from webapp.costs.models import CostRecord
from webapp.costs.periods import period_start
from webapp.database import UTCDateTime
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


@dataclass(frozen=True)
class BudgetRule:
    """What enforcement needs of an active budget, detached from any session."""

    id: int
    scope: str
    scope_id: int | None
    period: str
    limit: Decimal
    on_exceed: str
    soft_threshold_pct: int

    def applies_to(self, workflow_id: int | None, user_id: int | None) -> bool:
        return (self.scope == "global" or (self.scope == "workflow" and self.scope_id == workflow_id)
                or (self.scope == "user" and self.scope_id == user_id))


def _scopes(workflow_id: int | None, user_id: int | None):
    scopes = [Budget.scope == "global"]
    if workflow_id is not None:
        scopes.append(and_(Budget.scope == "workflow", Budget.scope_id == workflow_id))
    if user_id is not None:
        scopes.append(and_(Budget.scope == "user", Budget.scope_id == user_id))
    return or_(*scopes)


def applicable_budgets(workflow_id: int | None, user_id: int | None, *, policies: tuple[str, ...] | None = None
                       ) -> list[Budget]:
    """Active budgets for a run: the global ones, its workflow's and its triggering user's."""
    query = select(Budget).where(Budget.active.is_(True), _scopes(workflow_id, user_id))
    if policies is not None:
        query = query.where(Budget.on_exceed.in_(policies))
    return list(db.session.scalars(query.order_by(Budget.id)).all())


def _active_rules() -> tuple[BudgetRule, ...]:
    return tuple(BudgetRule(budget.id, budget.scope, budget.scope_id, budget.period, budget.limit, budget.on_exceed,
                            budget.soft_threshold_pct)
                 for budget in db.session.scalars(select(Budget).where(Budget.active.is_(True))
                                                  .order_by(Budget.id)).all())


def applicable_rules(workflow_id: int | None, user_id: int | None) -> list[BudgetRule]:
    """``applicable_budgets`` from the process's copy: no SQL unless a budget changed."""
    return [rule for rule in cached("budgets", _active_rules) if rule.applies_to(workflow_id, user_id)]


def recorded_spend(budget: Budget | BudgetRule, start: datetime, *, besides: tuple[int, int] | None = None):
    """The spend already recorded in the budget's scope since ``start`` (a SQL expression);
    ``besides`` = (step run id, attempt) leaves that attempt's record out."""
    query = select(func.coalesce(func.sum(CostRecord.amount), 0)).where(CostRecord.created_at >= start)
    if budget.scope == "workflow":
        query = query.where(CostRecord.workflow_id == budget.scope_id)
    elif budget.scope == "user":
        query = query.where(CostRecord.user_id == budget.scope_id)
    if besides is not None:
        query = query.where(or_(CostRecord.step_run_id != besides[0], CostRecord.attempt != besides[1]))
    return query.scalar_subquery()


def ensure_period(budget: Budget | BudgetRule, start: datetime) -> None:
    """Create the period's counters on first use. Its spend starts from what is already recorded
    in the period, so a budget created mid-month sees the month's spend, as the dashboard does."""
    db.session.execute(insert_ignoring_conflicts(
        BudgetPeriod, {"budget_id": budget.id, "period_start": start, "spent": recorded_spend(budget, start),
                       "reserved": ZERO}, ["budget_id", "period_start"]))


def _period_row(budget_id: int, start: datetime):
    return and_(BudgetPeriod.budget_id == budget_id, BudgetPeriod.period_start == start)


def usage_of(budget: Budget | BudgetRule, start: datetime) -> tuple[Decimal, Decimal]:
    """``(spent, reserved)`` of one budget period; before its first use, what is recorded in it."""
    row = db.session.execute(select(BudgetPeriod.spent, BudgetPeriod.reserved)
                             .where(_period_row(budget.id, start))).one_or_none()
    if row is None:
        return Decimal(db.session.scalar(select(recorded_spend(budget, start)))), ZERO
    return row.spent, row.reserved


def on_postgresql() -> bool:
    return db.engine.dialect.name == "postgresql"


BOOKING_FIELDS = ("run_id", "step_run_id", "attempt", "amount", "status", "created_at")


@dataclass(frozen=True)
class _Booking:
    """The reservation rows one attempt books on every budget that takes its amount."""

    run_id: int
    step_run_id: int
    attempt: int
    amount: Decimal
    at: datetime

    def same_for_every_budget(self) -> dict:
        return {"run_id": self.run_id, "step_run_id": self.step_run_id, "attempt": self.attempt,
                "amount": self.amount, "status": "open", "created_at": self.at}

    def row(self, budget_id: int, start: datetime) -> dict:
        return {"budget_id": budget_id, "period_start": start, **self.same_for_every_budget()}


@lru_cache(maxsize=64)
def _taking(capped: tuple[bool, ...]):
    """The reserving UPDATE for budgets whose limits bind (``capped``) or not, built once per
    shape with bound parameters: ``amount``, and ``budget_i``, ``start_i``, ``limit_i``."""
    amount = bindparam("amount", type_=MONEY)
    rows = []
    for index, cap in enumerate(capped):
        row = _period_row(bindparam(f"budget_{index}"), bindparam(f"start_{index}", type_=UTCDateTime()))
        if cap:
            row = and_(row, BudgetPeriod.spent + BudgetPeriod.reserved + amount <= bindparam(f"limit_{index}",
                                                                                           type_=MONEY))
        rows.append(row)
    return update(BudgetPeriod).where(or_(*rows)).values(reserved=BudgetPeriod.reserved + amount).returning(
        BudgetPeriod.budget_id, BudgetPeriod.period_start, BudgetPeriod.spent, BudgetPeriod.reserved)


@lru_cache(maxsize=64)
def _taking_and_booking(capped: tuple[bool, ...]):
    """PostgreSQL: the same UPDATE, and the INSERT of a reservation for each row it changed."""
    taken = _taking(capped).cte("taken")
    columns = BudgetReservation.__table__.c
    booked = insert(BudgetReservation).from_select(["budget_id", "period_start", *BOOKING_FIELDS], select(
        taken.c.budget_id, taken.c.period_start, *(bindparam(name, type_=columns[name].type)
                                                   for name in BOOKING_FIELDS))
    ).returning(BudgetReservation.id).cte("booked")
    return select(taken.c.budget_id, taken.c.spent, taken.c.reserved).add_cte(booked)


def _take(budgets, starts: dict[int, datetime], booking: _Booking, overridden: set[int]) -> dict[int, Decimal]:
    """Reserve the booking's amount on each budget whose period row exists and has room, and book
    those reservations; returns ``{budget_id: spent + reserved}`` of the rows it changed."""
    capped = tuple(budget.on_exceed != "alert" and budget.id not in overridden for budget in budgets)
    params = {"amount": booking.amount}
    for index, budget in enumerate(budgets):
        params.update({f"budget_{index}": budget.id, f"start_{index}": starts[budget.id],
                       f"limit_{index}": budget.limit})
    if on_postgresql():  # one round trip: the UPDATE and the INSERT of what it took
        changed = db.session.execute(_taking_and_booking(capped), {**params, **booking.same_for_every_budget()}).all()
    else:
        changed = db.session.execute(_taking(capped), params, execution_options={"synchronize_session": False}).all()
        if changed:
            db.session.execute(insert(BudgetReservation), [booking.row(row.budget_id, row.period_start)
                                                          for row in changed])
    return {row.budget_id: row.spent + row.reserved for row in changed}


def reserve(budgets, amount: Decimal, *, run_id: int, step_run_id: int, attempt: int,
            overridden: set[int] = frozenset()) -> Refusal | None:
    """Reserve ``amount`` on every budget (``Budget`` rows or ``BudgetRule`` copies), or on none
    of them and say which one refused.

    ``alert`` budgets (and budgets an admin overrode for this run) always take the reservation;
    the others only while it fits. The common case is one statement.
    """
    now = utcnow()
    booking = _Booking(run_id, step_run_id, attempt, money_up(amount), now)
    starts = {budget.id: period_start(budget.period, now) for budget in budgets}
    used = _take(budgets, starts, booking, overridden)
    missing = [budget for budget in budgets if budget.id not in used]
    if missing:  # a period's first reservation creates its row; or a refusal
        for budget in missing:
            ensure_period(budget, starts[budget.id])
        used.update(_take(missing, starts, booking, overridden))
    refused = next((budget for budget in budgets if budget.id not in used), None)
    if refused is None:
        for budget in budgets:
            check_alerts(budget, starts[budget.id], used[budget.id])
        return None
    if used:  # give back what the others took
        db.session.execute(update(BudgetPeriod).where(or_(*(
            _period_row(budget_id, starts[budget_id]) for budget_id in used))).values(
            reserved=BudgetPeriod.reserved - booking.amount).execution_options(synchronize_session=False))
        db.session.execute(delete(BudgetReservation).where(*_open_reservations(step_run_id, attempt))
                           .execution_options(synchronize_session=False))
    start = starts[refused.id]
    spent, reserved = usage_of(refused, start)
    fire_alert(refused, start, "exceeded", spent + reserved + booking.amount)
    return Refusal(db.session.get(Budget, refused.id), start, booking.amount,
                   max(refused.limit - spent - reserved, ZERO))


def _open_reservations(step_run_id: int, attempt: int) -> tuple:
    return (BudgetReservation.step_run_id == step_run_id, BudgetReservation.attempt == attempt,
            BudgetReservation.status == "open")


def _close(step_run_id: int, attempt: int, actual: Decimal, status: str) -> list:
    """Close the attempt's open reservations and move them into spend of ``actual`` (0 to
    release); returns them as (budget_id, period_start, amount) rows."""
    closing = update(BudgetReservation).where(*_open_reservations(step_run_id, attempt)).values(
        status=status, settled_amount=actual, closed_at=utcnow()).returning(
        BudgetReservation.budget_id, BudgetReservation.period_start, BudgetReservation.amount)
    if on_postgresql():  # one round trip: the reservations and their periods' counters
        closed = closing.cte("closed")
        moved = update(BudgetPeriod).where(
            BudgetPeriod.budget_id == closed.c.budget_id, BudgetPeriod.period_start == closed.c.period_start).values(
            spent=BudgetPeriod.spent + actual, reserved=BudgetPeriod.reserved - closed.c.amount).returning(
            BudgetPeriod.id).cte("moved")
        return db.session.execute(select(closed.c.budget_id, closed.c.period_start, closed.c.amount)
                                  .add_cte(moved)).all()
    rows = db.session.execute(closing.execution_options(synchronize_session=False)).all()
    for row in rows:
        _move(row.budget_id, row.period_start, spent=actual, reserved=-row.amount)
    return rows


def settle(step_run_id: int, attempt: int, actual: Decimal, *, workflow_id: int | None,
           user_id: int | None, reserved: bool = True) -> None:
    """Turn the attempt's reservations into spend of ``actual``, and charge ``actual`` to every
    other budget that applies now (one created while the step ran, or any budget when the kind
    declares no estimate), in its current period.

    ``reserved=False`` says the attempt booked no reservation (its claim found nothing to
    reserve), which saves the closing statement: a free step with no budget sends none."""
    actual = money(actual)
    reserved_on = {row.budget_id for row in _close(step_run_id, attempt, actual, "settled")} if reserved else set()
    if actual <= 0:
        return
    unreserved = [rule for rule in applicable_rules(workflow_id, user_id) if rule.id not in reserved_on]
    if unreserved:
        _charge(unreserved, actual, (step_run_id, attempt))


def _charge(rules: list[BudgetRule], actual: Decimal, attempt: tuple[int, int]) -> None:
    """Add spend that no reservation covered, creating the periods' rows on first use (their
    spend is what is recorded in them besides this attempt, plus ``actual``)."""
    now = utcnow()
    starts = {rule.id: period_start(rule.period, now) for rule in rules}
    dialect = postgresql if on_postgresql() else sqlite
    charging = dialect.insert(BudgetPeriod).values([
        {"budget_id": rule.id, "period_start": starts[rule.id], "reserved": ZERO,
         "spent": recorded_spend(rule, starts[rule.id], besides=attempt) + actual} for rule in rules])
    charging = charging.on_conflict_do_update(index_elements=["budget_id", "period_start"],
                                              set_={"spent": BudgetPeriod.spent + actual})
    used = {row.budget_id: row.spent + row.reserved for row in db.session.execute(charging.returning(
        BudgetPeriod.budget_id, BudgetPeriod.spent, BudgetPeriod.reserved))}
    for rule in rules:
        check_alerts(rule, starts[rule.id], used[rule.id])


def release(step_run_id: int, attempt: int) -> Decimal:
    """Give back what a failed or crashed attempt reserved; returns the amount released."""
    return sum((row.amount for row in _close(step_run_id, attempt, ZERO, "released")), ZERO)


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
