"""/costs in Chromium with gunicorn and a real worker: a budget pauses a run, raising it finishes the run live."""
from __future__ import annotations

from decimal import Decimal

from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_run_pages import FINISH_MS, worker  # noqa: F401  (the worker fixture)
from tests.e2e.test_users_admin import sign_in
from tests.integration.costs.test_enforcement import BOUND, SPENDER


def test_an_admin_budgets_a_workflow_sees_a_run_paused_by_it_raises_it_and_watches_the_run_finish(
        page: Page, browser: Browser, live_server, worker, db, make_user):  # noqa: F811
    from webapp.workflows.service import create_workflow

    create_workflow(SPENDER)
    db.session.commit()
    admin = make_user("admin")
    sign_in(page, live_server, admin.email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()

    page.goto(f"{live_server}/costs")
    expect(page.get_by_test_id("no-budgets")).to_be_visible()
    form = page.get_by_test_id("new-budget")
    form.get_by_label("Name").fill("spender cap")
    form.get_by_label("Applies to").select_option("workflow")
    form.get_by_label("Workflow or user").select_option("spender")
    form.get_by_label("Period").select_option("total")
    form.get_by_label("Limit (USD)").fill(str((BOUND * Decimal("1.5")).quantize(Decimal("1e-8"))))
    form.get_by_label("At the limit").select_option("pause")
    form.get_by_role("button", name="Create budget").click()
    expect(page.get_by_text("Budget created.")).to_be_visible()
    expect(page.get_by_test_id("budget-row")).to_contain_text("spender cap")

    for expected in ("succeeded", "paused"):  # the first run fits, the second would pass the limit
        page.goto(f"{live_server}/workflows/spender")
        page.get_by_test_id("trigger").click()
        expect(page.get_by_test_id("run-status")).to_have_text(expected, timeout=FINISH_MS)
    expect(page.get_by_test_id("pause-reason")).to_have_attribute("data-reason", "budget")
    expect(page.get_by_test_id("budget-hold")).to_contain_text("spender cap")
    paused_url = page.url

    costs = browser.new_page()  # the run page stays open in the first tab, never reloaded
    costs.context.add_cookies(page.context.cookies())
    costs.goto(f"{live_server}/costs")
    row = costs.get_by_test_id("budget-row")
    expect(row.get_by_test_id("held-run")).to_be_visible()
    row.get_by_text("Edit").click()
    row.get_by_label("Limit", exact=True).fill(str((BOUND * 20).quantize(Decimal("1e-8"))))
    row.get_by_role("button", name="Save").click()
    expect(costs.get_by_text("Budget saved.")).to_be_visible()

    assert page.url == paused_url
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    expect(page.get_by_test_id("budget-hold")).to_have_count(0)
    costs.close()
