"""The run page of a budget-paused run says which budget holds it and how to continue."""
from __future__ import annotations

from decimal import Decimal

from tests.conftest import csrf_token_from
from tests.integration.costs.test_enforcement import SPENDER
from webapp.costs import holds
from webapp.runs import actions
from webapp.runs.execution import claim
from webapp.runs.service import get_run


def paused_run(db, make_workflow, make_budget, operator) -> int:
    make_workflow(SPENDER)
    make_budget("0.00001", "pause", scope="workflow", scope_id="spender", name="tiny")
    run = actions.trigger_run("spender", {}, operator)[0]
    step = run.step("think")
    assert claim(step.id, step.rq_job_id) is None  # refused: the attempt never starts
    db.session.expire_all()
    return run.id


def test_a_refused_claim_pauses_the_run_for_its_budget_and_keeps_the_step_queued(
        db, make_workflow, make_budget, operator, redis):
    run = get_run(paused_run(db, make_workflow, make_budget, operator))
    assert (run.status, run.pause_reason) == ("paused", "budget")
    assert run.step("think").status == "queued" and run.step("think").attempt == 1
    assert "tiny" in run.pause_note
    assert [hold.step_key for hold in holds.active_holds(run.id)] == ["think"]


def test_the_run_page_names_the_budget_and_only_admins_get_resume_over_budget(
        client, db, make_workflow, make_budget, operator, login_as, redis):
    run_id = paused_run(db, make_workflow, make_budget, operator)
    login_as("viewer")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert 'data-testid="budget-hold"' in page and "tiny" in page and "resume-over-budget" not in page
    client.post("/logout", data={"csrf_token": csrf_token_from(page)})
    login_as("admin")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert 'data-testid="resume-over-budget"' in page
    response = client.post(f"/costs/runs/{run_id}/resume-over-budget", data={"csrf_token": csrf_token_from(page)})
    assert response.status_code == 302
    db.session.expire_all()
    run = get_run(run_id)
    assert run.status == "running" and holds.active_holds(run_id) == []
    again = client.post(f"/costs/runs/{run_id}/resume-over-budget", data={"csrf_token": csrf_token_from(page)},
                        follow_redirects=True)
    assert "is not paused by a budget" in again.get_data(as_text=True)


def test_the_api_lists_the_holds_of_a_run(client, db, make_workflow, make_budget, operator, api_headers, redis):
    run_id = paused_run(db, make_workflow, make_budget, operator)
    headers, _ = api_headers("viewer")
    body = client.get(f"/api/v3/runs/{run_id}/budget", headers=headers).get_json()
    assert [(hold["budget"], hold["step_id"]) for hold in body["holds"]] == [("tiny", "think")]
    assert Decimal(body["holds"][0]["remaining"]) == Decimal("0.00001")
    admin, _ = api_headers("admin")
    assert client.post(f"/api/v3/runs/{run_id}/resume-over-budget", headers=headers).status_code == 403
    resumed = client.post(f"/api/v3/runs/{run_id}/resume-over-budget", headers=admin)
    assert resumed.status_code == 200 and resumed.get_json()["run"]["status"] == "running"
