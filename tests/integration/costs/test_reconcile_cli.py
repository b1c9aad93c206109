"""``flask costs reconcile``: exit 0 when every total agrees, exit 1 naming each difference."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from webapp.costs import ledger, recording
from webapp.costs.models import CostRecord
from webapp.runs.models import StepRun, WorkflowRun


def spend(db, run_id: int, step_id: int, amount: str) -> None:
    recording.record(CostRecord(run_id=run_id, step_run_id=step_id, attempt=1, kind="llm", model="local-small",
                                amount=Decimal(amount)))
    db.session.execute(update(StepRun).where(StepRun.id == step_id).values(cost=StepRun.cost + Decimal(amount)))
    db.session.execute(update(WorkflowRun).where(WorkflowRun.id == run_id)
                       .values(cost_total=WorkflowRun.cost_total + Decimal(amount)))
    db.session.commit()


def test_agreeing_totals_exit_zero(db, flask_cli, step_rows):
    run_id, steps = step_rows(2)
    spend(db, run_id, steps[0], "0.125")
    spend(db, run_id, steps[1], "0.0001")
    result = flask_cli("costs", "reconcile")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "everything agrees" in result.stdout


def test_a_run_total_that_differs_from_its_records_exits_one_and_names_the_run(db, flask_cli, step_rows):
    run_id, steps = step_rows(1)
    spend(db, run_id, steps[0], "0.5")
    db.session.execute(update(WorkflowRun).where(WorkflowRun.id == run_id).values(cost_total=Decimal("0.49")))
    db.session.commit()
    result = flask_cli("costs", "reconcile")
    assert result.returncode == 1
    assert f"run total: run {run_id} says 0.49000000, its cost records sum to 0.50000000" in result.stdout


def test_a_reservation_left_open_on_a_step_that_is_not_running_is_reported(db, flask_cli, step_rows, make_budget):
    budget = make_budget("10", "pause")
    run_id, steps = step_rows(1)
    assert ledger.reserve([budget], Decimal("1"), run_id=run_id, step_run_id=steps[0], attempt=1) is None
    db.session.commit()
    result = flask_cli("costs", "reconcile")
    assert result.returncode == 1
    assert "open reservation: run" in result.stdout and "but the step is queued" in result.stdout
    ledger.release(steps[0], 1)
    db.session.commit()
    assert flask_cli("costs", "reconcile").returncode == 0


def test_a_malformed_since_is_a_usage_error(db, flask_cli):
    result = flask_cli("costs", "reconcile", "--since", "last week")
    assert result.returncode == 2 and "--since" in result.stderr
