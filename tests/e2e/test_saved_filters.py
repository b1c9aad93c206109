"""An operator saves the runs list's filter under a name and picks it again, in Chromium."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_console_shell import without_event_stream
from tests.e2e.test_users_admin import sign_in


def test_a_saved_filter_is_picked_again_and_deleted(page: Page, live_server, make_user):
    without_event_stream(page)
    sign_in(page, live_server, make_user("operator").email)
    page.goto(f"{live_server}/runs")
    filters = page.get_by_role("form", name="Filters")
    filters.get_by_label("Status").select_option("failed")
    filters.get_by_label("Created").select_option("7d")
    filters.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"status=failed"))

    save = page.get_by_test_id("save-filter")
    save.get_by_label("Name of this filter").fill("Failed this week")
    save.get_by_role("button", name="Save filter").click()
    expect(page.get_by_role("alert")).to_contain_text("Saved the filter “Failed this week”")

    page.goto(f"{live_server}/runs")
    expect(page.get_by_test_id("save-filter")).to_have_count(0)  # nothing chosen, nothing to save
    page.get_by_role("link", name="Failed this week").click()
    expect(page).to_have_url(re.compile(r"/runs\?status=failed&range=7d$"))
    expect(page.get_by_role("form", name="Filters").get_by_label("Status")).to_have_value("failed")
    expect(page.get_by_role("link", name="Failed this week")).to_have_attribute("aria-current", "true")

    page.get_by_role("button", name="Delete the saved filter Failed this week").click()
    expect(page.get_by_role("alert")).to_contain_text("Deleted the filter")
    expect(page.get_by_test_id("saved-filter")).to_have_count(0)
