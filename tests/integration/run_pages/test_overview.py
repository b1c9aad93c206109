"""The Overview's numbers match the database, each links to its list, and fixed failures drop out."""
from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal

from webapp.clock import utcnow
from webapp.costs.models import CostRecord
from webapp.extensions import db as _db
from webapp.runs import actions


def figure(html: str, testid: str) -> tuple[str, str]:
    match = re.search(rf'data-testid="{testid}">.*?<a class="figure" href="([^"]+)">([^<]+)</a>', html, re.S)
    assert match, testid
    return match.group(1).replace("&amp;", "&"), match.group(2).strip()


def last_day(html: str) -> dict[str, tuple[str, int]]:
    block = html.split('data-testid="last-day"')[1].split("</ul>")[0]
    return {status: (href.replace("&amp;", "&"), int(count)) for href, status, count in re.findall(
        r'<a href="([^"]+)" data-status="(\w+)"><span[^>]*>\w+</span> (\d+)</a>', block)}


def cost(run, index: int, amount: str, ago: timedelta = timedelta(0)) -> None:
    step = run.steps[index]
    _db.session.add(CostRecord(run_id=run.id, step_run_id=step.id, attempt=1,
                               kind="llm", amount=Decimal(amount), created_at=utcnow() - ago))
    _db.session.commit()


def test_overview_numbers_match_the_database_and_link_to_their_lists(client, login_as, make_run, redis):
    recent_done = make_run("succeeded")
    make_run("succeeded", ago=timedelta(hours=30))
    make_run("failed", ["succeeded", "failed", "skipped"])
    make_run("failed", ["succeeded", "failed", "skipped"], ago=timedelta(days=3))
    make_run("running", ["running", "pending", "pending"])
    make_run("paused", ["succeeded", "succeeded", "waiting_approval"], ago=timedelta(hours=30))
    make_run("queued", ["pending", "pending", "pending"])
    cost(recent_done, 0, "0.10")
    cost(recent_done, 1, "1.25000001", ago=timedelta(minutes=1))
    cost(recent_done, 2, "7", ago=timedelta(days=1, hours=1))  # yesterday: not today's spend
    login_as("viewer")
    html = client.get("/").get_data(as_text=True)
    assert figure(html, "in-progress") == ("/runs?status=in_progress", "3")
    assert figure(html, "needs-attention") == ("/runs?status=failed", "2")
    spend_link, spend = figure(html, "spend-today")
    assert spend_link == "/runs?range=today"
    now = utcnow()
    assert spend == ("$1.3500" if now - timedelta(minutes=1) >= now.replace(
        hour=0, minute=0, second=0, microsecond=0) else "$0.1000")
    counts = last_day(html)
    assert {status: count for status, (_, count) in counts.items()} == {
        "queued": 1, "running": 1, "paused": 0, "failed": 1, "cancelled": 0, "succeeded": 1}
    assert counts["failed"][0] == "/runs?status=failed&range=24h"
    assert figure(html, "live-workers") == ("/workers", "0")
    assert figure(html, "queue-depth")[0] == "/workers"
    assert 'data-testid="last-day-total">4 in all' in html
    assert 'aria-label="System health"' in html  # the health engineer's section stays


def test_a_failure_fixed_by_retry_no_longer_needs_attention(client, login_as, make_run, operator, redis):
    fixed = make_run("failed", ["succeeded", "failed", "skipped"])
    make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("viewer")
    assert figure(client.get("/").get_data(as_text=True), "needs-attention")[1] == "2"
    actions.retry_run(fixed.id, operator)
    assert figure(client.get("/").get_data(as_text=True), "needs-attention")[1] == "1"
    assert figure(client.get("/").get_data(as_text=True), "in-progress")[1] == "1"


def test_overview_says_unavailable_when_redis_is_unreachable(client, login_as, monkeypatch):
    from webapp.queues import redis_client

    login_as("viewer")
    monkeypatch.setattr("webapp.console.views.redis_connection",
                        lambda: redis_client("redis://127.0.0.1:1/0", timeout=1))  # nothing listens on port 1
    html = client.get("/").get_data(as_text=True)
    assert figure(html, "live-workers")[1] == "unavailable" and figure(html, "needs-attention")[1] == "0"
