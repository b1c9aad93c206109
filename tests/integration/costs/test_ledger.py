"""Reservations against budgets on real PostgreSQL: atomic under concurrency, settled, released, alerted once."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from tests.integration.costs.conftest import in_threads
from webapp.clock import frozen_at
from webapp.costs import ledger
from webapp.costs.budget_models import Budget, BudgetAlert, BudgetReservation
from webapp.costs.periods import period_start
from webapp.events.models import Event

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def reserve_one(budget_id: int, run_id: int, step_id: int, amount: str = "1") -> bool:
    from webapp.extensions import db

    budgets = [db.session.get(Budget, budget_id)]
    refusal = ledger.reserve(budgets, Decimal(amount), run_id=run_id, step_run_id=step_id, attempt=1)
    db.session.commit()
    return refusal is None


def usage(db, budget, at=NOON):
    db.session.expire_all()
    return ledger.usage_of(budget, period_start(budget.period, at))


def count(db, model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_ten_concurrent_reservations_of_one_against_a_pause_limit_of_three_and_a_half_admit_exactly_three(
        app, db, make_budget, step_rows):
    budget = make_budget("3.5", "pause")
    run_id, steps = step_rows(10)
    with frozen_at(NOON):
        admitted = in_threads(app, 10, lambda i: reserve_one(budget.id, run_id, steps[i]))
        assert admitted.count(True) == 3
        assert usage(db, budget) == (Decimal("0"), Decimal("3"))
    assert count(db, BudgetReservation, BudgetReservation.status == "open") == 3


def test_an_alert_budget_admits_every_reservation_and_fires_each_alert_once_under_concurrency(
        app, db, make_budget, step_rows):
    budget = make_budget("5", "alert", soft_threshold_pct=50)
    run_id, steps = step_rows(12)
    with frozen_at(NOON):
        admitted = in_threads(app, 12, lambda i: reserve_one(budget.id, run_id, steps[i]))
    assert admitted == [True] * 12
    alerts = db.session.execute(select(BudgetAlert.kind, BudgetAlert.period_start)).all()
    assert sorted(alerts) == [("exceeded", period_start("day", NOON)), ("threshold", period_start("day", NOON))]
    assert count(db, Event, Event.type == "budget.threshold") == 1
    assert count(db, Event, Event.type == "budget.exceeded") == 1


def test_alerts_fire_again_in_the_next_period_and_the_new_period_starts_empty(app, db, make_budget, step_rows):
    budget = make_budget("2", "pause", soft_threshold_pct=50)
    run_id, steps = step_rows(4)
    with frozen_at(NOON):
        assert reserve_one(budget.id, run_id, steps[0], "1.5")
        assert not reserve_one(budget.id, run_id, steps[1], "1")
    tomorrow = NOON + timedelta(days=1)
    with frozen_at(tomorrow):
        assert usage(db, budget, tomorrow) == (Decimal("0"), Decimal("0"))
        assert reserve_one(budget.id, run_id, steps[2], "1.5")
        assert not reserve_one(budget.id, run_id, steps[3], "1")
    fired = db.session.execute(select(BudgetAlert.kind, BudgetAlert.period_start).order_by(BudgetAlert.id)).all()
    assert fired == [("threshold", period_start("day", NOON)), ("exceeded", period_start("day", NOON)),
                     ("threshold", period_start("day", tomorrow)), ("exceeded", period_start("day", tomorrow))]


def test_a_refusal_by_one_budget_leaves_the_other_budgets_untouched(app, db, make_budget, step_rows):
    roomy = make_budget("100", "pause")
    tight = make_budget("1", "block")
    run_id, steps = step_rows(1)
    with frozen_at(NOON):
        refusal = ledger.reserve([roomy, tight], Decimal("2"), run_id=run_id, step_run_id=steps[0], attempt=1)
        db.session.commit()
        assert refusal is not None and refusal.budget.id == tight.id
        assert (refusal.needed, refusal.remaining) == (Decimal("2"), Decimal("1"))
        assert usage(db, roomy) == (Decimal("0"), Decimal("0"))
    assert count(db, BudgetReservation) == 0


def test_settling_moves_the_reservation_to_the_actual_spend_and_releasing_gives_it_back(
        app, db, make_budget, step_rows):
    budget = make_budget("10", "pause")
    run_id, steps = step_rows(2)
    with frozen_at(NOON):
        assert reserve_one(budget.id, run_id, steps[0], "3")
        assert reserve_one(budget.id, run_id, steps[1], "4")
        ledger.settle(steps[0], 1, Decimal("1.25"), workflow_id=None, user_id=None)
        released = ledger.release(steps[1], 1)
        db.session.commit()
        assert released == Decimal("4")
        assert usage(db, budget) == (Decimal("1.25"), Decimal("0"))
        # Settling twice (a redelivered job) changes nothing: the reservation is closed.
        ledger.settle(steps[0], 1, Decimal("0"), workflow_id=None, user_id=None)
        db.session.commit()
        assert usage(db, budget) == (Decimal("1.25"), Decimal("0"))


def test_spend_without_a_reservation_still_counts_against_the_budgets_that_apply(app, db, make_budget, step_rows):
    budget = make_budget("10", "alert")
    run_id, steps = step_rows(1)
    with frozen_at(NOON):
        ledger.settle(steps[0], 1, Decimal("2"), workflow_id=None, user_id=None)
        db.session.commit()
        assert usage(db, budget) == (Decimal("2"), Decimal("0"))


def test_a_budget_created_mid_period_counts_the_spend_already_recorded_in_its_scope(
        app, db, make_budget, step_rows):
    from webapp.costs.models import CostRecord
    from webapp.runs.models import WorkflowRun

    run_id, steps = step_rows(2)
    workflow_id = db.session.get(WorkflowRun, run_id).workflow_id
    for moment, amount in ((NOON - timedelta(days=1), "5"), (NOON - timedelta(hours=2), "0.75")):
        db.session.add(CostRecord(run_id=run_id, step_run_id=steps[0], attempt=len(str(amount)), kind="llm",
                                  amount=Decimal(amount), workflow_id=workflow_id, created_at=moment))
    db.session.commit()
    daily = make_budget("1", "pause", scope="workflow", scope_id="rows")
    other = make_budget("1", "pause", scope="user", scope_id=db.session.get(WorkflowRun, run_id).triggered_by)
    with frozen_at(NOON):
        assert usage(db, daily) == (Decimal("0.75"), Decimal("0"))  # yesterday's 5 is another period
        assert usage(db, other) == (Decimal("0"), Decimal("0"))  # those records name no user
        assert not reserve_one(daily.id, run_id, steps[1], "0.5")  # 0.75 + 0.5 would pass 1
        assert reserve_one(daily.id, run_id, steps[1], "0.25")
        assert usage(db, daily) == (Decimal("0.75"), Decimal("0.25"))
