"""The live Overview: runs over time stacked by status, needs attention, its polled fragment,
and the empty state that offers the shipped example."""
from __future__ import annotations

import re
from datetime import timedelta

from webapp.clock import utcnow


def bars(html: str) -> list[tuple[str, int]]:
    return [(status, int(count)) for status, count in
            re.findall(r'<rect class="bar status-\w+"[^>]*data-status="(\w+)" data-count="(\d+)"', html)]


def totals(html: str) -> dict[str, int]:
    summed: dict[str, int] = {}
    for status, count in bars(html):
        summed[status] = summed.get(status, 0) + count
    return summed


def test_the_24_h_chart_counts_each_status_of_the_last_day_only(client, login_as, make_run):
    make_run("succeeded", ago=timedelta(minutes=5))
    make_run("succeeded", ago=timedelta(hours=3))
    make_run("failed", ["succeeded", "failed", "skipped"], ago=timedelta(hours=3))
    make_run("succeeded", ago=timedelta(days=3))
    login_as("viewer")
    html = client.get("/").get_data(as_text=True)
    assert totals(html) == {"succeeded": 2, "failed": 1}
    assert 'data-window="24h"' in html and "runs-chart-title" in html


def test_the_7_day_chart_takes_in_older_runs_and_stacks_one_bucket(client, login_as, make_run):
    for _ in range(3):
        make_run("succeeded", ago=timedelta(days=3))
    make_run("failed", ["succeeded", "failed", "skipped"], ago=timedelta(days=3))
    make_run("succeeded", ago=timedelta(days=9))
    login_as("viewer")
    html = client.get("/?window=7d").get_data(as_text=True)
    assert totals(html) == {"succeeded": 3, "failed": 1}
    assert re.search(r'data-window="7d"[^>]*data-max="5"', html)
    stacked = [match for match in re.finditer(r'<rect class="bar[^>]*x="([\d.]+)"', html)]
    assert len({match.group(1) for match in stacked}) == 1  # both statuses in one bar


def test_an_unknown_window_falls_back_to_24_h(client, login_as, make_run):
    make_run("succeeded")
    login_as("viewer")
    response = client.get("/?window=1y")
    assert response.status_code == 200
    assert 'data-window="24h"' in response.get_data(as_text=True)


def test_needs_attention_lists_failures_paused_runs_with_their_reason_and_gates_not_fixed_ones(
        client, db, login_as, make_run, operator):
    from webapp.runs import actions

    failed = make_run("failed", ["succeeded", "failed", "skipped"], error="boom")
    fixed = make_run("failed", ["succeeded", "failed", "skipped"])
    gated = make_run("paused", ["succeeded", "succeeded", "waiting_approval"])
    gated.pause_reason = "approval"
    held = make_run("paused", ["succeeded", "pending", "pending"])
    held.pause_reason, held.pause_note = "budget", "daily budget of $5.0000 reached"
    db.session.commit()
    make_run("succeeded")
    actions.retry_run(fixed.id, operator)
    login_as("viewer")
    html = client.get("/").get_data(as_text=True)
    section = html.split('data-testid="attention"')[1].split("</section>")[0]
    assert set(re.findall(r'data-kind="(\w+)" data-run="(\d+)"', section)) == {
        ("gate", str(gated.id)), ("failed", str(failed.id)), ("paused", str(held.id))}
    assert "paused by budget: daily budget of $5.0000 reached" in section
    assert "gate approve is waiting for approval" in section
    assert f'href="/runs/{fixed.id}"' not in section


def test_nothing_needs_attention_says_so(client, login_as, make_run):
    make_run("succeeded")
    login_as("viewer")
    assert 'data-testid="nothing-needs-attention"' in client.get("/").get_data(as_text=True)


def test_the_poll_gets_only_the_live_block_uncached(client, login_as, make_run):
    make_run("succeeded")
    login_as("viewer")
    response = client.get("/", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert html.lstrip().startswith('<div id="overview-live"')
    assert "<html" not in html and 'data-testid="in-progress"' in html
    assert 'hx-trigger="every 5s' in html


def test_with_no_runs_an_operator_is_offered_the_shipped_example(client, login_as, make_workflow):
    import json

    from tests.conftest import ROOT

    make_workflow(json.loads((ROOT / "examples" / "hello.json").read_text()))
    login_as("operator")
    html = client.get("/").get_data(as_text=True)
    assert 'data-testid="empty-state"' in html
    assert 'action="/workflows/hello/runs"' in html and 'data-testid="run-example"' in html
    assert "runs-chart" not in html


def test_with_no_runs_and_no_example_the_empty_state_says_how_to_import_it(client, login_as):
    login_as("viewer")
    html = client.get("/").get_data(as_text=True)
    assert "flask workflows import examples/hello.json" in html


def test_the_chart_window_ends_at_the_next_hour_and_spans_a_day():
    from webapp.console.overview import window_start

    now = utcnow().replace(minute=17)
    start = window_start(now, "24h")
    assert start.minute == 0 and start + timedelta(hours=24) > now > start + timedelta(hours=23)


def test_chart_buckets_match_a_brute_force_count_on_postgresql_and_sqlite(app, db, tmp_path):
    """The SQL bucketing (extract(epoch) on PostgreSQL, julianday on SQLite) agrees with Python."""
    from flask_migrate import upgrade
    from sqlalchemy import select

    from webapp import create_app
    from webapp.console.overview import runs_over_time
    from webapp.demo.seed import seed_demo
    from webapp.formatting import aware
    from webapp.runs.models import WorkflowRun

    def check() -> None:
        now = utcnow()
        seed_demo(300, now=now)
        db.session.commit()
        for window in ("24h", "7d"):
            buckets = runs_over_time(now, window)
            expected = [dict.fromkeys(buckets[0].counts, 0) for _ in buckets]
            for created, status in db.session.execute(select(WorkflowRun.created_at, WorkflowRun.status)):
                for index, bucket in enumerate(buckets):
                    if bucket.start <= aware(created) < bucket.end:
                        expected[index][status] += 1
            assert [bucket.counts for bucket in buckets] == expected, window
            assert sum(bucket.total for bucket in buckets) > 0

    check()
    embedded = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'chart.db'}"})
    with embedded.app_context():
        upgrade()
        check()
        db.session.remove()


def needs_attention_figure(html: str) -> str:
    return re.search(r'data-testid="needs-attention">.*?<a class="figure" href="[^"]+">([^<]+)</a>', html, re.S)[1]


def test_with_a_cache_the_aggregates_are_shared_until_they_expire(app, client, login_as, make_run, redis):
    make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("viewer")
    app.config["OVERVIEW_CACHE_SECONDS"] = 30
    try:
        assert needs_attention_figure(client.get("/").get_data(as_text=True)) == "1"
        make_run("failed", ["succeeded", "failed", "skipped"])
        assert needs_attention_figure(client.get("/").get_data(as_text=True)) == "1"  # the shared result
        assert 0 < redis.pttl("flowdeck:overview:24h") <= 30_000
        redis.delete("flowdeck:overview:24h")  # what expiry does
        assert needs_attention_figure(client.get("/").get_data(as_text=True)) == "2"
    finally:
        app.config["OVERVIEW_CACHE_SECONDS"] = 0


def test_with_a_cache_and_redis_down_the_overview_computes_its_figures(app, client, login_as, make_run,
                                                                     monkeypatch):
    from webapp.queues import redis_client

    make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("viewer")
    monkeypatch.setattr("webapp.console.cache.redis_connection",
                        lambda: redis_client("redis://127.0.0.1:1/0", timeout=1))  # nothing listens on port 1
    app.config["OVERVIEW_CACHE_SECONDS"] = 30
    try:
        assert needs_attention_figure(client.get("/").get_data(as_text=True)) == "1"
    finally:
        app.config["OVERVIEW_CACHE_SECONDS"] = 0


def test_the_overview_shows_each_active_budget_against_its_limit(client, login_as, make_run):
    from decimal import Decimal

    from webapp.costs.models import CostRecord
    from webapp.costs.service import create_budget
    from webapp.extensions import db

    run = make_run("succeeded")
    create_budget(scope="global", scope_id=None, period="day", limit=Decimal("2"), on_exceed="alert",
                  name="Daily LLM")
    off = create_budget(scope="global", scope_id=None, period="month", limit=Decimal("9"), on_exceed="alert",
                        name="Switched off")
    off.active = False
    db.session.add(CostRecord(run_id=run.id, step_run_id=run.steps[0].id, attempt=1, kind="llm",
                              amount=Decimal("0.5")))
    db.session.commit()
    login_as("viewer")
    section = client.get("/").get_data(as_text=True).split('data-testid="budgets"')[1].split("</section>")[0]
    assert "<bdi>Daily LLM</bdi>" in section and "Switched off" not in section
    assert 'max="2.00000000" value="0.50000000"' in section
    assert "$0.5000 of $2.0000 this day" in section and "25 % used" in section
