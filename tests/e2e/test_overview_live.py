"""The Overview in Chromium: its figures refresh by polling when the event stream is down, and the
chart switches window."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_console_shell import without_event_stream
from tests.e2e.test_run_pages import start_run  # noqa: F401 (shared fixture)
from tests.e2e.test_users_admin import sign_in

POLL_MS = 15_000  # three polls at the default HEALTH_POLL_SECONDS=5


def test_with_the_event_stream_down_a_new_failure_appears_by_polling_without_reloading(
        page: Page, live_server, db, make_user, start_run):  # noqa: F811
    """The Overview follows the event stream; while the stream is down it polls its live block."""
    from webapp.runs.models import WorkflowRun

    definition = {"name": "watched", "steps": [{"id": "only", "uses": "template.render", "with": {"template": "x"}}]}
    first = start_run(definition)
    without_event_stream(page)
    sign_in(page, live_server, make_user("viewer").email)
    expect(page.get_by_test_id("needs-attention").locator("a")).to_have_text("0")
    page.evaluate("window.notReloaded = true")
    run = db.session.get(WorkflowRun, first)
    run.status = "failed"
    run.error = "the disk is full"
    db.session.commit()
    expect(page.get_by_test_id("needs-attention").locator("a")).to_have_text("1", timeout=POLL_MS)
    expect(page.get_by_test_id("attention")).to_contain_text("the disk is full")
    assert page.evaluate("window.notReloaded") is True


def test_the_chart_switches_to_7_days_and_the_url_keeps_it(page: Page, live_server, make_user,
                                                          start_run):  # noqa: F811
    without_event_stream(page)
    start_run({"name": "charted", "steps": [{"id": "only", "uses": "template.render", "with": {"template": "x"}}]})
    sign_in(page, live_server, make_user("viewer").email)
    chart = page.get_by_test_id("runs-chart")
    expect(chart.locator("svg")).to_have_attribute("data-window", "24h")
    chart.get_by_role("link", name="7d").click()
    expect(chart.locator("svg")).to_have_attribute("data-window", "7d")
    expect(page).to_have_url(f"{live_server}/?window=7d")
    expect(chart.get_by_role("link", name="7d")).to_have_attribute("aria-current", "true")
