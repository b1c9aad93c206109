"""The runs list lives on the event stream: Chromium, gunicorn, a real worker and dispatcher.

The list's fallback polls are aborted, so a run that appears on it, or changes status, got
there through ``/events/stream``; the page is never reloaded.
"""
from __future__ import annotations

import requests
from playwright.sync_api import Page, Route, expect

from tests.conftest import TEST_PASSWORD
from tests.e2e.test_live_run_page import stream_server  # noqa: F401  (fixture)
from tests.e2e.test_run_pages import worker  # noqa: F401  (fixture)
from tests.e2e.test_users_admin import sign_in
from tests.integration.runs.conftest import wait_until

UPDATE_MS = 15_000


def test_a_run_triggered_through_the_api_appears_and_changes_status_from_the_stream(
        page: Page, stream_server, worker, make_user, db):  # noqa: F811
    from webapp.runs import actions
    from webapp.runs.service import get_run
    from webapp.workflows.service import create_workflow

    create_workflow({"name": "list-live", "steps": [
        {"id": "prepare", "uses": "template.render", "with": {"template": "ready"}},
        {"id": "approve", "uses": "gate.approval", "needs": ["prepare"]},
        {"id": "report", "uses": "template.render", "needs": ["approve"], "with": {"template": "done"}}]})
    db.session.commit()
    seen = {"polls": 0, "live_refreshes": 0}

    def traffic(route: Route) -> None:
        request = route.request
        if request.headers.get("hx-request") and "/runs" in request.url:
            if "live=" not in request.url:
                seen["polls"] += 1  # the fallback poll: refused, so nothing below can come from it
                route.abort()
                return
            seen["live_refreshes"] += 1
        route.continue_()

    page.route("**/*", traffic)
    sign_in(page, stream_server, make_user("viewer").email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{stream_server}/runs")
    expect(page.get_by_test_id("no-runs")).to_be_visible()
    expect(page.get_by_test_id("runs-stream")).to_have_attribute("data-stream", "open", timeout=UPDATE_MS)
    page.evaluate("window.notReloaded = true")

    operator = make_user("operator")
    credentials = {"email": operator.email, "password": TEST_PASSWORD}
    login = requests.post(f"{stream_server}/api/v3/auth/login", json=credentials, timeout=10)
    token = login.json()["access_token"]
    answer = requests.post(f"{stream_server}/api/v3/workflows/list-live/runs", json={"params": {}},
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert answer.status_code == 202, answer.text
    run_id = answer.json()["run"]["id"]

    badge = page.locator(f'[data-testid="runs"] tr[data-run="{run_id}"] .badge')
    expect(badge).to_be_visible(timeout=UPDATE_MS)
    wait_until(lambda: any(step.status == "waiting_approval" for step in get_run(run_id).steps), 30,
               "the gate to wait")
    waiting = get_run(run_id).status
    expect(badge).to_have_text(waiting, timeout=UPDATE_MS)

    actions.decide_gate(run_id, "approve", approved=True, comment="ship it", actor=operator)
    wait_until(lambda: get_run(run_id).status == "succeeded", 30, "the run to succeed")
    expect(badge).to_have_text("succeeded", timeout=UPDATE_MS)
    assert page.evaluate("window.notReloaded") is True
    assert seen["live_refreshes"] >= 2, seen
