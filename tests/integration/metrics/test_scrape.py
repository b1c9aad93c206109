"""A scrape reports what happened: HTTP requests by route template, runs, steps and costs,
logins, locked accounts, the outbox, budgets, queues and health."""
from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import select

from tests.conftest import TEST_PASSWORD
from tests.integration.metrics.conftest import fetch, free_port, parse, value
from tests.integration.runs.conftest import wait_for_run
from webapp.clock import utcnow
from webapp.costs.models import CostRecord
from webapp.runs import actions


def test_http_requests_are_counted_once_each_under_their_route_template(client, scrape, api_headers):
    headers, _ = api_headers("viewer")
    before = scrape()
    for run_id in (101, 102, 103):
        assert client.get(f"/api/v3/runs/{run_id}", headers=headers).status_code == 404
    client.get("/no/such/page/at/all")
    after = scrape()
    route = {"route": "/api/v3/runs/<int:run_id>", "method": "GET", "status": "404"}
    total = "flowdeck_http_requests_total"
    assert value(after, total, **route) - value(before, total, **route) == 3
    count = "flowdeck_http_request_duration_seconds_count"
    assert value(after, count, route=route["route"]) - value(before, count, route=route["route"]) == 3
    assert not [key for key in after if "/api/v3/runs/101" in str(key)]
    unmatched = {"route": "unmatched", "method": "GET", "status": "404"}
    assert value(after, total, **unmatched) - value(before, total, **unmatched) == 1


def test_a_failed_login_moves_the_failure_counter_by_one(client, scrape, make_user):
    user = make_user("viewer")
    before = value(scrape(), "flowdeck_login_failures_total")
    response = client.post("/api/v3/auth/login", json={"email": user.email, "password": "wrong " + TEST_PASSWORD})
    assert response.status_code == 401
    client.post("/api/v3/auth/login", json={"email": user.email, "password": TEST_PASSWORD})
    assert value(scrape(), "flowdeck_login_failures_total") - before == 1


def test_locked_accounts_unpublished_events_and_budget_ratios_are_read_at_scrape_time(db, scrape, make_user):
    from webapp.costs.service import create_budget
    from webapp.events import publish

    locked = make_user("viewer")
    locked.locked_until = utcnow() + timedelta(minutes=30)
    make_user("viewer").locked_until = utcnow() - timedelta(minutes=1)  # expired: not locked
    publish("test.metrics", {"n": 1})
    budget = create_budget(scope="global", scope_id=None, period="month", limit=Decimal("10"), on_exceed="alert")
    db.session.commit()
    samples = scrape()
    assert value(samples, "flowdeck_accounts_locked") == 1
    assert value(samples, "flowdeck_events_unpublished") >= 1
    assert value(samples, "flowdeck_events_oldest_unpublished_seconds") >= 0
    ratio = [v for (name, labels), v in samples.items()
             if name == "flowdeck_budget_spent_ratio" and ("budget", str(budget.id)) in labels]
    assert ratio == [0.0]
    assert value(samples, "flowdeck_scrape_error", source="database") == 0
    assert value(samples, "flowdeck_scrape_error", source="redis") == 0


def test_a_run_moves_run_step_and_cost_metrics_by_the_right_amounts(db, redis, scrape, workers, make_workflow,
                                                                     operator, test_env):
    make_workflow({"name": "metered", "steps": [
        {"id": "greet", "uses": "template.render", "with": {"template": "Hello"}},
        {"id": "think", "uses": "llm.complete", "needs": ["greet"],
         "with": {"model": "local-small", "prompt": "{{ steps.greet.output }}"}},
        {"id": "shout", "uses": "template.render", "needs": ["think"], "with": {"template": "HI"}},
    ]})
    port = free_port()
    workers.env["WORKER_METRICS_PORT"] = str(port)
    workers.start(1)
    run = wait_for_run(actions.trigger_run("metered", {}, operator)[0].id)
    assert run.status == "succeeded", workers.logs()

    web = scrape()
    assert value(web, "flowdeck_runs_active", status="running") == 0
    assert value(web, "flowdeck_queue_jobs", queue="default", state="queued") == 0
    assert value(web, "flowdeck_workers", state="idle") + value(web, "flowdeck_workers", state="busy") == 1

    step = parse(fetch(f"http://127.0.0.1:{port}/metrics", token=None))
    assert value(step, "flowdeck_runs_total", workflow="metered", status="succeeded") == 1
    assert value(step, "flowdeck_step_attempts_total", kind="template.render", status="succeeded") == 2
    assert value(step, "flowdeck_step_attempts_total", kind="llm.complete", status="succeeded") == 1
    assert value(step, "flowdeck_step_duration_seconds_count", kind="template.render") == 2
    assert value(step, "flowdeck_step_queue_wait_seconds_count") == 3
    spent = db.session.scalars(select(CostRecord.amount).where(CostRecord.run_id == run.id)).one()
    assert value(step, "flowdeck_cost_total", workflow="metered", model="local-small", currency="USD") == \
        float(spent)


def test_a_run_ended_by_two_parallel_branches_on_two_workers_is_counted_once(db, redis, workers, make_workflow,
                                                                            operator):
    make_workflow({"name": "forked", "steps": [
        {"id": "start", "uses": "template.render", "with": {"template": "go"}},
        *({"id": f"b{i}", "uses": "control.sleep", "needs": ["start"], "with": {"seconds": 0.2}} for i in range(4)),
    ]})
    ports = [free_port(), free_port()]
    for port in ports:
        workers.env["WORKER_METRICS_PORT"] = str(port)
        workers.start(1)
    run = wait_for_run(actions.trigger_run("forked", {}, operator)[0].id)
    assert run.status == "succeeded", workers.logs()
    scrapes = [parse(fetch(f"http://127.0.0.1:{port}/metrics", token=None)) for port in ports]
    assert sum(value(s, "flowdeck_step_attempts_total", kind="control.sleep", status="succeeded") for s in scrapes) == 4
    assert sum(value(s, "flowdeck_runs_total", workflow="forked", status="succeeded") for s in scrapes) == 1
