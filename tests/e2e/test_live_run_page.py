"""The run page lives on the event stream: Chromium, gunicorn, a real worker and dispatcher.

Polling requests of the page are aborted, so every update seen here came through
``/events/stream``; the server ends each stream after 2 s (EVENTS_STREAM_MAX_SECONDS), and the
test also refuses reconnects for a while, so the run finishes while the page is disconnected:
the page must still catch up through ``Last-Event-ID`` and miss no event.
"""
from __future__ import annotations

import os
import signal
import subprocess
import time
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from playwright.sync_api import Page, Route, expect

from tests.conftest import BIN, ROOT
from tests.e2e.conftest import free_port
from tests.e2e.test_run_pages import start_run, worker  # noqa: F401  (fixtures)
from tests.e2e.test_users_admin import sign_in
from tests.integration.runs.conftest import wait_until

STREAM_SECONDS = "2"


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)


@pytest.fixture
def stream_server(app, db, redis, test_env, tmp_path):
    """gunicorn (gthread, as `make run` serves SSE) with short streams, and one event dispatcher."""
    env = {**os.environ, **test_env, "EVENTS_STREAM_MAX_SECONDS": STREAM_SECONDS, "EVENTS_POLL_SECONDS": "1"}
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--worker-class", "gthread", "--threads", "8", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=open(tmp_path / "gunicorn.log", "w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    dispatcher = subprocess.Popen([str(BIN / "flask"), "events", "dispatch"], cwd=ROOT, env=env,
                                  stdout=open(tmp_path / "dispatcher.log", "w"), stderr=subprocess.STDOUT,
                                  start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{base}/api/v3/health/live", timeout=1)
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                raise RuntimeError("the live server did not start") from None
            time.sleep(0.2)
    yield base
    stop(dispatcher)
    stop(server)


def unpublished(run_id: int) -> int:
    from sqlalchemy import func, select

    from webapp.events.models import Event
    from webapp.extensions import db

    return db.session.scalar(select(func.count()).where(Event.subject == f"run:{run_id}",
                                                        Event.published_at.is_(None)))


def run_event_ids(run_id: int) -> list[int]:
    from sqlalchemy import select

    from webapp.events.models import Event
    from webapp.extensions import db

    return list(db.session.scalars(select(Event.id).where(Event.subject == f"run:{run_id}",
                                                          Event.published_at.is_not(None)).order_by(Event.id)))


def test_run_page_updates_from_the_stream_and_resumes_with_last_event_id(
        page: Page, stream_server, worker, start_run, make_user, db):  # noqa: F811
    from webapp.runs import actions
    from webapp.runs.service import get_run

    run_id = start_run({"name": "live-gate", "steps": [
        {"id": "prepare", "uses": "template.render", "with": {"template": "ready"}},
        {"id": "approve", "uses": "gate.approval", "needs": ["prepare"]},
        {"id": "report", "uses": "template.render", "needs": ["approve"], "with": {"template": "done"}}]})
    seen = {"polls": 0, "refused_streams": 0, "resumed_from": []}
    hold_stream = {"on": False}

    def traffic(route: Route) -> None:
        request = route.request
        if "/events/stream" in request.url:
            if hold_stream["on"]:
                seen["refused_streams"] += 1
                route.abort()
                return
            resumed = request.all_headers().get("last-event-id") or parse_qs(urlsplit(request.url).query).get(
                "last_event_id", [None])[0]
            if seen["refused_streams"]:
                seen["resumed_from"].append(int(resumed) if resumed else None)
        elif request.headers.get("hx-request") and "live=" not in request.url:
            seen["polls"] += 1  # the fallback poll: refused, so nothing below can come from it
            route.abort()
            return
        route.continue_()

    page.route("**/*", traffic)
    sign_in(page, stream_server, make_user("viewer").email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{stream_server}/runs/{run_id}")
    page.evaluate("""() => {
        window.liveSeen = []; window.liveOpens = 0;
        document.addEventListener('htmx:sseMessage', (e) => window.liveSeen.push(Number(e.detail.lastEventId)));
        document.addEventListener('htmx:sseOpen', () => { window.liveOpens += 1; });
    }""")
    wait_until(lambda: get_run(run_id).status in ("running", "paused") and
               any(step.status == "waiting_approval" for step in get_run(run_id).steps), 30, "the gate to wait")
    expect(page.get_by_test_id("run-live")).to_have_attribute("data-status", get_run(run_id).status, timeout=15_000)

    hold_stream["on"] = True  # the server ends the stream within 2 s; reconnects are refused meanwhile
    deadline = time.monotonic() + 15
    while seen["refused_streams"] == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(100)
    assert seen["refused_streams"] > 0, "the stream never dropped"
    before_approval = max(run_event_ids(run_id))
    actions.decide_gate(run_id, "approve", approved=True, comment="ship it", actor=make_user("operator"))
    wait_until(lambda: get_run(run_id).status == "succeeded", 30, "the run to succeed")
    wait_until(lambda: unpublished(run_id) == 0, 10, "the dispatcher to publish the run's events")
    expect(page.get_by_test_id("run-status")).not_to_have_text("succeeded")  # disconnected: nothing new yet
    opens_while_away = page.evaluate("() => window.liveOpens")  # the first open may precede the listener
    hold_stream["on"] = False

    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=20_000)
    resumed_from = seen["resumed_from"][0]
    assert resumed_from is not None and resumed_from <= before_approval, seen
    received = set(page.evaluate("() => window.liveSeen"))
    missed_while_away = [event_id for event_id in run_event_ids(run_id) if event_id > before_approval]
    assert len(missed_while_away) >= 4  # gate decided, report queued, running, succeeded, run succeeded
    assert [event_id for event_id in missed_while_away if event_id not in received] == []
    assert page.evaluate("() => window.liveOpens") > opens_while_away  # it reconnected after the drop
