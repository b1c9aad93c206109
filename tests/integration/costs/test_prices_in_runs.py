"""A new price applies to steps that start after its effective_from; earlier records keep theirs."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from tests.integration.runs.conftest import wait_for_run
from webapp.clock import utcnow
from webapp.costs import prices
from webapp.costs.models import CostRecord
from webapp.runs import actions

ASK = {"name": "priced", "steps": [
    {"id": "ask", "uses": "llm.complete",
     "with": {"model": "local-large", "prompt": "one two three", "max_tokens": 5}}]}


def record_of(db, run_id: int) -> CostRecord:
    db.session.expire_all()
    return db.session.scalars(select(CostRecord).where(CostRecord.run_id == run_id)).one()


def test_a_price_change_applies_only_to_steps_that_start_after_it(db, workers, make_workflow, operator, admin):
    make_workflow(ASK)
    workers.start(1)
    before = wait_for_run(actions.trigger_run("priced", {}, operator)[0].id)
    assert before.status == "succeeded", workers.logs()
    prices.add_price("local-large", Decimal("0.03"), Decimal("0.06"), utcnow(), actor=admin)
    prices.add_price("local-large", Decimal("9"), Decimal("9"), utcnow() + timedelta(days=1), actor=admin)
    db.session.commit()
    after = wait_for_run(actions.trigger_run("priced", {}, operator)[0].id)
    assert after.status == "succeeded", workers.logs()

    old, new = record_of(db, before.id), record_of(db, after.id)
    assert (old.unit_price_in, old.unit_price_out) == (Decimal("0.000003"), Decimal("0.000006"))
    assert (new.unit_price_in, new.unit_price_out) == (Decimal("0.00003"), Decimal("0.00006"))
    assert new.amount == (Decimal("0.03") * new.units_in + Decimal("0.06") * new.units_out) / 1000
    assert old.amount == (Decimal("0.003") * old.units_in + Decimal("0.006") * old.units_out) / 1000


def test_a_model_without_any_price_fails_the_step_before_the_provider_is_called(
        db, workers, make_workflow, operator):
    make_workflow({"name": "unpriced", "steps": [
        {"id": "ask", "uses": "llm.complete", "with": {"model": "mystery-9", "prompt": "hi"},
         "retry": {"max": 2, "backoff": [0]}}]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("unpriced", {}, operator)[0].id)
    assert run.status == "failed" and run.step("ask").attempt == 1  # not retried: a retry cannot fix it
    assert "'mystery-9' has no price" in run.step("ask").error
    assert db.session.scalars(select(CostRecord)).all() == []
