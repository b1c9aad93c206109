"""Memoized steps on real workers: hits cost nothing and record what they saved; keys change
with inputs, model and price; failures are never stored; refresh recomputes."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.integration.memory.plugin import COST, COUNTER
from tests.integration.runs.conftest import wait_for_run
from webapp.runs import actions

LLM = {"name": "summary", "params": {"topic": {"type": "string", "required": True},
                                     "model": {"type": "string", "default": "local-small"}},
       "steps": [{"id": "ask", "uses": "llm.complete", "cache": {"ttl": 3600},
                  "with": {"model": "{{ params.model }}", "prompt": "Summarize {{ params.topic }} in one line."}}]}


def run_of(slug, operator, **params):
    run = wait_for_run(actions.trigger_run(slug, params, operator)[0].id)
    assert run.status == "succeeded", run.error
    return run


def cost_records(db, run):
    return db.session.execute(db.text("SELECT amount, saved FROM cost_records WHERE run_id = :r"),
                              {"r": run.id}).all()


def test_the_second_identical_run_is_a_hit_that_costs_nothing_and_saves_the_first_cost(
        db, workers, make_workflow, operator, store, client, api_headers, login_as):
    from webapp.formatting import money_text

    make_workflow(LLM)
    workers.start(1)
    first = run_of("summary", operator, topic="queues")
    second = run_of("summary", operator, topic="queues")

    original, hit = first.step("ask"), second.step("ask")
    assert not original.cache_hit and original.cost > 0
    assert hit.cache_hit and hit.output == original.output and hit.cost == 0
    assert cost_records(db, second) == [(Decimal("0"), original.cost)]
    assert second.cost_total == 0

    headers, _ = api_headers("viewer")
    step_json = client.get(f"/api/v3/runs/{second.id}", headers=headers).json["run"]["steps"][0]
    assert step_json["cache_hit"] is True and step_json["cost"] == "0"
    assert Decimal(step_json["saved"]) == original.cost

    login_as("viewer")
    page = client.get(f"/runs/{second.id}").get_data(as_text=True)
    assert f'data-testid="cache-hit-ask">cache hit · saved {money_text(original.cost)}</span>' in page
    assert "cache hit" not in client.get(f"/runs/{first.id}").get_data(as_text=True)


def test_changed_inputs_model_or_price_miss(db, workers, make_workflow, operator, store):
    from webapp.clock import utcnow
    from webapp.costs.prices import add_price

    make_workflow(LLM)
    workers.start(1)
    run_of("summary", operator, topic="queues")
    assert not run_of("summary", operator, topic="caches").step("ask").cache_hit
    assert not run_of("summary", operator, topic="queues", model="local-large").step("ask").cache_hit
    assert run_of("summary", operator, topic="queues").step("ask").cache_hit

    add_price("local-small", Decimal("0.001"), Decimal("0.002"), utcnow() - timedelta(seconds=1))
    db.session.commit()
    repriced = run_of("summary", operator, topic="queues").step("ask")
    assert not repriced.cache_hit and repriced.cost > 0


def test_a_failed_attempt_is_not_stored_and_the_retry_that_succeeds_is(db, redis, workers, make_workflow,
                                                                       operator, store):
    make_workflow({"name": "doubler", "params": {"fail": {"type": "integer", "default": 0}}, "steps": [
        {"id": "double", "uses": "test.double", "cache": {"ttl": 600}, "retry": {"max": 1, "backoff": [0]},
         "with": {"x": 21, "fail_first": "{{ params.fail }}"}}]})
    workers.start(1)
    failed = wait_for_run(actions.trigger_run("doubler", {"fail": 5}, operator)[0].id)
    assert failed.status == "failed" and int(redis.get(f"{COUNTER}21")) == 2
    assert db.session.execute(db.text("SELECT count(*) FROM memory_entries WHERE namespace = 'memo'")).scalar() == 0

    flaky = run_of("doubler", operator, fail=1)
    assert flaky.step("double").output == {"double": 42, "attempt": 2} and not flaky.step("double").cache_hit
    assert int(redis.get(f"{COUNTER}21")) == 4
    reused = run_of("doubler", operator, fail=1)
    assert reused.step("double").cache_hit and reused.step("double").output == {"double": 42, "attempt": 2}
    assert int(redis.get(f"{COUNTER}21")) == 4
    assert cost_records(db, reused) == [(Decimal("0"), COST)]


def test_refresh_recomputes_and_replaces_the_stored_result(db, redis, workers, make_workflow, operator, store):
    step = {"id": "double", "uses": "test.double", "with": {"x": 5}}
    make_workflow({"name": "cached", "steps": [{**step, "cache": {"ttl": 600}}]})
    make_workflow({"name": "refreshing", "steps": [{**step, "cache": {"ttl": 600, "refresh": True}}]})
    workers.start(1)
    run_of("cached", operator)
    assert run_of("cached", operator).step("double").cache_hit
    assert int(redis.get(f"{COUNTER}5")) == 1

    refreshed = run_of("refreshing", operator).step("double")
    assert not refreshed.cache_hit and int(redis.get(f"{COUNTER}5")) == 2
    assert run_of("cached", operator).step("double").cache_hit
    assert int(redis.get(f"{COUNTER}5")) == 2
