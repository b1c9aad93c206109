"""Step attempts executed in this process under the test clock: what settling charges, and a
budget-paused run continuing by itself when its budget's period ends."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from webapp.clock import frozen_at
from webapp.costs import holds
from webapp.costs.audit_totals import reconcile_costs
from webapp.costs.budget_models import BudgetAlert, BudgetPeriod, BudgetReservation
from webapp.costs.ledger import usage_of
from webapp.costs.models import CostRecord
from webapp.costs.periods import period_start
from webapp.runs import actions
from webapp.runs.execution import claim, execute_step, perform, record_outcome
from webapp.runs.reconcile import reconcile
from webapp.runs.service import get_run

NOON = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def metered(make_workflow, name: str, bound: str, spend: str) -> None:
    make_workflow({"name": name, "steps": [
        {"id": "meter", "uses": "test.metered", "with": {"bound": bound, "spend": spend}}]})


def usage(db, budget, at: datetime) -> tuple[Decimal, Decimal]:
    db.session.expire_all()
    return usage_of(budget, period_start(budget.period, at))


def run_step(run_id: int) -> None:
    """Execute the run's step as a worker would, here and now (the test clock's now)."""
    step = get_run(run_id).step("meter")
    execute_step(step.id, step.rq_job_id)


def test_budgets_created_while_steps_run_are_charged_what_those_steps_spend_when_they_settle(
        db, make_workflow, make_budget, operator, redis):
    metered(make_workflow, "metered", bound="2", spend="0.5")
    metered(make_workflow, "other", bound="2", spend="0.5")
    reserved_on = make_budget("10", "pause")
    with frozen_at(NOON):
        runs = [actions.trigger_run(slug, {}, operator)[0] for slug in ("metered", "metered", "other")]
        steps = [run.step("meter") for run in runs]
        attempts = [claim(step.id, step.rq_job_id) for step in steps[:2]]
        assert all(attempts) and usage(db, reserved_on, NOON) == (Decimal("0"), Decimal("4"))
        # Two budgets appear while those two steps run; neither holds a reservation of theirs.
        created_during = make_budget("0.6", "alert", scope="workflow", scope_id="metered", soft_threshold_pct=50)
        total_during = make_budget("100", "pause", scope="user", scope_id=operator.id, period="total")
        attempts.append(claim(steps[2].id, steps[2].rq_job_id))  # reserves on the user's: its period row exists
        for run, step, attempt in zip(runs, steps, attempts, strict=True):
            record_outcome(step.id, step.rq_job_id, perform(attempt), run_id=run.id)
    assert [get_run(run.id).status for run in runs] == ["succeeded"] * 3
    counters = dict(db.session.execute(select(BudgetPeriod.budget_id, BudgetPeriod.spent)).all())
    assert counters == {reserved_on.id: Decimal("1.5"), created_during.id: Decimal("1"),
                        total_during.id: Decimal("1.5")}
    assert usage(db, total_during, NOON) == (Decimal("1.5"), Decimal("0"))
    assert db.session.scalars(select(BudgetReservation.status)).all() == ["settled"] * 4
    # The workflow's budget passed its threshold and its limit on those settles, once each.
    alerts = db.session.scalars(select(BudgetAlert.kind).where(BudgetAlert.budget_id == created_during.id)).all()
    assert sorted(alerts) == ["exceeded", "threshold"]
    assert db.session.scalar(select(func.sum(CostRecord.amount))) == Decimal("1.5")
    findings = reconcile_costs()
    assert findings.ok, findings.problems


def test_a_budget_deactivated_while_a_step_runs_still_turns_its_reservation_into_spend(
        db, make_workflow, make_budget, operator, admin, redis):
    from webapp.costs.service import update_budget

    metered(make_workflow, "metered", bound="2", spend="0.5")
    budget = make_budget("10", "pause")
    with frozen_at(NOON):
        run = actions.trigger_run("metered", {}, operator)[0]
        step = run.step("meter")
        attempt = claim(step.id, step.rq_job_id)
        update_budget(budget.id, {"active": False}, actor=admin)
        db.session.commit()
        record_outcome(step.id, step.rq_job_id, perform(attempt), run_id=run.id)
    assert usage(db, budget, NOON) == (Decimal("0.5"), Decimal("0"))


# Each boundary starts a new period: a Tuesday midnight (day), a Monday (week), a first (month).
BOUNDARIES = [("day", datetime(2026, 12, 2, tzinfo=UTC)), ("week", datetime(2026, 12, 7, tzinfo=UTC)),
              ("month", datetime(2027, 1, 1, tzinfo=UTC))]


@pytest.mark.parametrize(("period", "boundary"), BOUNDARIES, ids=[period for period, _ in BOUNDARIES])
def test_a_run_paused_by_a_budget_continues_by_itself_when_the_budgets_period_ends(
        db, make_workflow, make_budget, operator, redis, period, boundary):
    metered(make_workflow, "metered", bound="1", spend="1")
    budget = make_budget("1.5", "pause", period=period)
    evening = boundary - timedelta(hours=2)
    with frozen_at(evening):
        first, second = (actions.trigger_run("metered", {}, operator)[0].id for _ in range(2))
        run_step(first)
        run_step(second)  # 1 spent, 0.5 left: this step's bound of 1 does not fit
    assert get_run(first).status == "succeeded"
    held = get_run(second)
    assert (held.status, held.pause_reason, held.step("meter").status) == ("paused", "budget", "queued")

    with frozen_at(boundary - timedelta(microseconds=1)):
        reconcile()  # what the reconciler's timer runs
        assert (get_run(second).status, len(holds.active_holds(second))) == ("paused", 1)
    with frozen_at(boundary):
        reconcile()
        resumed = get_run(second)
        assert (resumed.status, holds.active_holds(second)) == ("running", [])
        run_step(second)
    assert get_run(second).status == "succeeded"
    assert get_run(second).step("meter").attempt == 1  # the refusal spent no attempt
    assert usage(db, budget, evening) == (Decimal("1"), Decimal("0"))
    assert usage(db, budget, boundary) == (Decimal("1"), Decimal("0"))
    findings = reconcile_costs()
    assert findings.ok, findings.problems
