"""Estimates: the upper bound from the kinds' own estimates, the likely cost from past runs, 402 at trigger."""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import update

from tests.conftest import csrf_token_from
from webapp.runs.models import StepRun, WorkflowRun
from webapp.steps.llm_providers import count_tokens

DEFINITION = {"name": "ask", "params": {"topic": {"type": "string", "required": True}}, "steps": [
    {"id": "ask", "uses": "llm.complete", "with": {"model": "local-small", "prompt": "Tell me about {{ params.topic }}",
                                                 "max_tokens": 100}},
    {"id": "again", "uses": "llm.complete", "needs": ["ask"],
     "with": {"model": "local-small", "prompt": "{{ steps.ask.output.text }}", "max_tokens": 50}},
    {"id": "note", "uses": "template.render", "needs": ["again"], "with": {"template": "done"}},
]}


def upper_bound(prompt: str, max_tokens: int) -> Decimal:
    return (Decimal("0.0005") * count_tokens(prompt) + Decimal("0.0015") * max_tokens) / 1000


def test_the_estimate_is_the_renderable_steps_upper_bound_and_says_when_it_is_not_exact(
        client, db, api_headers, make_workflow):
    make_workflow(DEFINITION)
    headers, _ = api_headers("viewer")
    response = client.post("/api/v3/workflows/ask/estimate", headers=headers, json={"params": {"topic": "otters"}})
    assert response.status_code == 200, response.get_json()
    estimate = response.get_json()["estimate"]
    first = upper_bound("Tell me about otters", 100).quantize(Decimal("0.00000001"))
    steps = {step["step_id"]: step for step in estimate["steps"]}
    assert Decimal(steps["ask"]["upper_bound"]) == first and steps["ask"]["exact"] is True
    assert steps["again"]["exact"] is False and Decimal(steps["again"]["upper_bound"]) == 0  # no history yet
    assert Decimal(steps["note"]["upper_bound"]) == 0 and steps["note"]["exact"] is True
    assert Decimal(estimate["upper_bound"]) == first and estimate["upper_bound_exact"] is False
    missing = client.post("/api/v3/workflows/ask/estimate", headers=headers, json={"params": {}})
    assert missing.status_code == 422


def test_the_likely_cost_is_the_median_of_each_steps_past_costs(client, db, api_headers, make_workflow, operator):
    from webapp.runs import actions

    make_workflow(DEFINITION)
    for cost in ("0.001", "0.003", "0.010"):
        run = actions.trigger_run("ask", {"topic": "x"}, operator)[0]
        db.session.execute(update(StepRun).where(StepRun.run_id == run.id, StepRun.step_key == "again")
                           .values(cost=Decimal(cost)))
        db.session.execute(update(WorkflowRun).where(WorkflowRun.id == run.id).values(status="succeeded"))
    db.session.commit()
    headers, _ = api_headers("viewer")
    estimate = client.post("/api/v3/workflows/ask/estimate", headers=headers,
                           json={"params": {"topic": "x"}}).get_json()["estimate"]
    again = next(step for step in estimate["steps"] if step["step_id"] == "again")
    assert (again["likely"], again["upper_bound"], again["history_runs"]) == ("0.00300000", "0.01000000", 3)


def test_a_block_budget_refuses_a_trigger_whose_upper_bound_does_not_fit_with_402_naming_it(
        client, db, api_headers, make_workflow, make_budget, redis):
    make_workflow(DEFINITION)
    bound = upper_bound("Tell me about otters", 100)
    make_budget(str((bound / 2).quantize(Decimal("0.00000001"))), "block", scope="workflow", scope_id="ask",
                name="ask cap")
    headers, _ = api_headers("operator")
    refused = client.post("/api/v3/workflows/ask/runs", headers=headers, json={"params": {"topic": "otters"}})
    assert refused.status_code == 402, refused.get_json()
    error = refused.get_json()["error"]
    assert error["code"] == "budget_exceeded" and "'ask cap'" in error["message"]
    assert Decimal(error["details"]["remaining"]) == (bound / 2).quantize(Decimal("0.00000001"))
    assert db.session.query(WorkflowRun).count() == 0


def test_the_trigger_form_shows_the_estimate_for_the_params_it_holds(client, db, login_as, make_workflow):
    make_workflow(DEFINITION)
    login_as("operator")
    page = client.get("/workflows/ask").get_data(as_text=True)
    assert 'data-testid="trigger-estimate"' in page
    fragment = client.post("/costs/estimate/ask", data={"csrf_token": csrf_token_from(page), "topic": "otters"},
                           headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "may cost up to" in fragment and "$0.0002" in fragment
    empty = client.post("/costs/estimate/ask", data={"csrf_token": csrf_token_from(page)}).get_data(as_text=True)
    assert "No estimate" in empty and "topic" in empty
