"""Budgets enforced by the engine with real worker processes: no overspend under concurrency,
paused runs lose nothing and continue, crashed attempts give their reservation back."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import func, select

from tests.integration.runs.conftest import horse_pid, wait_for_run, wait_until
from webapp.costs import holds, service
from webapp.costs.audit_totals import reconcile_costs
from webapp.costs.budget_models import BudgetHold, BudgetReservation
from webapp.costs.ledger import usage_of
from webapp.costs.models import CostRecord
from webapp.costs.periods import period_start
from webapp.runs import actions
from webapp.runs.reconcile import reconcile
from webapp.runs.service import get_run
from webapp.steps.llm_providers import count_tokens

# The local provider answers with the prompt's tokens, cut at max_tokens: with a prompt longer
# than max_tokens the reply uses all of them, so an attempt really spends its whole upper bound.
PROMPT = " ".join(f"word{index}" for index in range(30))
MAX_TOKENS = 10
BOUND = (Decimal("0.0005") * count_tokens(PROMPT) + Decimal("0.0015") * MAX_TOKENS) / 1000
SPENDER = {"name": "spender", "steps": [
    {"id": "think", "uses": "llm.complete",
     "with": {"model": "local-small", "prompt": PROMPT, "max_tokens": MAX_TOKENS}},
    {"id": "after", "uses": "template.render", "needs": ["think"],
     "with": {"template": "{{ steps.think.output.text }}"}},
]}
FINISHED_OR_HELD = ("succeeded", "failed", "cancelled", "paused")


def spent_on(db, budget) -> tuple[Decimal, Decimal]:
    db.session.expire_all()
    return usage_of(budget, period_start(budget.period, budget.created_at))


def test_ten_concurrent_runs_against_a_pause_budget_of_three_and_a_half_bounds_run_three_and_pause_seven(
        db, workers, make_workflow, make_budget, operator, admin):
    make_workflow(SPENDER)
    budget = make_budget(str(BOUND * Decimal("3.5")), "pause", period="total")
    runs = [actions.trigger_run("spender", {}, operator)[0].id for _ in range(10)]
    workers.start(4)
    settled = [wait_for_run(run_id, FINISHED_OR_HELD, timeout=90) for run_id in runs]
    assert sorted(run.status for run in settled) == ["paused"] * 7 + ["succeeded"] * 3, workers.logs()
    assert {run.pause_reason for run in settled if run.status == "paused"} == {"budget"}
    assert all(run.step("think").status == "queued" for run in settled if run.status == "paused")
    spent, reserved = spent_on(db, budget)
    assert spent == BOUND * 3 and reserved == 0 and spent <= budget.limit
    assert db.session.scalar(select(func.count()).select_from(CostRecord)) == 3
    assert db.session.scalar(select(func.count()).select_from(BudgetHold).where(BudgetHold.status == "active")) == 7

    service.update_budget(budget.id, {"limit": BOUND * 20}, actor=admin)
    db.session.commit()
    finished = [wait_for_run(run_id, timeout=90) for run_id in runs]
    assert [run.status for run in finished] == ["succeeded"] * 10, workers.logs()
    assert spent_on(db, budget) == (BOUND * 10, Decimal("0"))
    findings = reconcile_costs()
    assert findings.ok, findings.problems


def test_an_admin_resumes_a_budget_paused_run_over_budget_and_it_is_audited(
        db, workers, make_workflow, make_budget, operator, admin):
    from webapp.audit.models import AuditEvent

    make_workflow(SPENDER)
    budget = make_budget(str(BOUND / 2), "pause", scope="workflow", scope_id="spender")
    run_id = actions.trigger_run("spender", {}, operator)[0].id
    workers.start(1)
    run = wait_for_run(run_id, FINISHED_OR_HELD)
    assert (run.status, run.pause_reason) == ("paused", "budget")
    hold = holds.active_holds(run_id)[0]
    assert (hold.budget_id, hold.step_key, hold.needed) == (budget.id, "think", BOUND.quantize(Decimal("1e-8")))

    holds.resume_over_budget(run_id, actor=admin)
    db.session.commit()
    assert wait_for_run(run_id).status == "succeeded", workers.logs()
    assert spent_on(db, budget)[0] == BOUND  # over the limit, as the admin allowed
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(
        AuditEvent.event == "run.resume_over_budget")) == 1


def test_a_crashed_attempt_gives_back_its_reservation_once_the_reconciler_has_seen_it(
        db, workers, make_workflow, make_budget, operator):
    make_workflow({"name": "slow-spender", "steps": [
        {"id": "meter", "uses": "test.metered", "with": {"bound": "2", "spend": "0.5", "seconds": 30}}]})
    budget = make_budget("10", "pause")
    run_id = actions.trigger_run("slow-spender", {}, operator)[0].id
    workers.start(1)
    wait_until(lambda: get_run(run_id).step("meter").status == "running", what="meter to start")
    assert spent_on(db, budget) == (Decimal("0"), Decimal("2"))
    workers.kill(workers.processes[0], horse_pid(get_run(run_id).step("meter")))
    assert spent_on(db, budget) == (Decimal("0"), Decimal("2"))  # nobody knows yet

    reconcile(grace_seconds=0)
    assert spent_on(db, budget) == (Decimal("0"), Decimal("0"))
    released = db.session.scalars(select(BudgetReservation.status)).all()
    assert released == ["released"]
    assert reconcile_costs().ok


def test_a_failed_attempt_releases_and_its_retry_reserves_again(db, workers, make_workflow, make_budget, operator):
    make_workflow({"name": "retry-spender", "steps": [
        {"id": "meter", "uses": "test.metered", "with": {"bound": "3", "spend": "1", "fail": True},
         "retry": {"max": 1, "backoff": [0]}}]})
    budget = make_budget("4", "pause")  # room for one attempt's bound at a time, not two
    run_id = actions.trigger_run("retry-spender", {}, operator)[0].id
    workers.start(1)
    run = wait_for_run(run_id)
    assert (run.status, run.step("meter").attempt) == ("failed", 2), workers.logs()
    assert spent_on(db, budget) == (Decimal("0"), Decimal("0"))
    assert db.session.scalars(select(BudgetReservation.status)).all() == ["released", "released"]
