"""The console shell in Chromium: no horizontal page scroll at four widths with long data, the
sidebar groups and its phone menu, and a remembered theme toggle."""
from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_run_pages import start_run  # noqa: F401 (shared fixture)
from tests.e2e.test_users_admin import sign_in

WIDTHS = (390, 768, 1024, 1440)
LONG_NAME = ("Ada " + "Lovelace-" * 22)[:200]  # the longest name an account may have, one unbroken word
BIG_OUTPUT = {"rows": [{"key": f"k{i:03}", "value": "x" * 40} for i in range(40)]}  # over 2 KB of JSON


def without_event_stream(target) -> None:
    """These tests are about layout, keyboard and polling. The event stream (tests/e2e/test_live_run_page.py)
    is refused here, so that its long-lived connections do not hold the live server's few threads."""
    target.route("**/events/stream*", lambda route: route.abort())


@pytest.fixture
def long_data(db, make_user, start_run):  # noqa: F811 (the fixture imported above)
    """An admin with a 200-character name, and a run whose first step holds 2 KB of JSON output."""
    from webapp.runs.models import WorkflowRun

    admin = make_user("admin", name=LONG_NAME, email=("a" * 60) + "@example.com")
    run_id = start_run({"name": "wide-output", "steps": [
        {"id": "emit", "uses": "template.render", "with": {"template": "ok"}}]})
    run = db.session.get(WorkflowRun, run_id)
    run.status = "succeeded"
    run.steps[0].status = "succeeded"
    run.steps[0].output = BIG_OUTPUT
    db.session.commit()
    return admin, run_id


def page_width(page: Page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, document.documentElement.clientWidth]")


@pytest.mark.parametrize("width", WIDTHS)
def test_no_page_scrolls_sideways_with_a_200_character_name_and_2_kb_of_json(browser: Browser, live_server,
                                                                                long_data, width):
    admin, run_id = long_data
    context = browser.new_context(viewport={"width": width, "height": 900})
    page = context.new_page()
    without_event_stream(context)
    sign_in(page, live_server, admin.email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    for path in ("/", "/users", f"/users/{admin.id}", "/audit", "/runs", f"/runs/{run_id}", "/workflows",
                 "/workflows/wide-output", "/health", "/workers", "/account", "/mail"):
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        scroll, client = page_width(page)
        assert scroll <= client, f"{path} is {scroll} px wide in a {client} px window"
    context.close()


def test_sidebar_groups_the_pages_and_hides_admin_only_links_from_a_viewer(page: Page, live_server, make_user):
    without_event_stream(page)
    sign_in(page, live_server, make_user("viewer").email)
    nav = page.get_by_role("navigation", name="Main")
    operate = nav.get_by_role("list", name="Operate")
    expect(operate.get_by_role("link", name="Runs")).to_be_visible()
    expect(nav.get_by_role("list", name="Resources").get_by_role("link", name="Health")).to_be_visible()
    for admin_only in ("Users", "Audit", "Mail"):
        expect(nav.get_by_role("link", name=admin_only, exact=True)).to_have_count(0)
    expect(nav.get_by_role("link", name="Overview")).to_have_attribute("aria-current", "page")


def test_under_1024_px_the_sidebar_is_a_menu_that_opens_and_closes_from_the_keyboard(browser: Browser,
                                                                                   live_server, make_user):
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    page = context.new_page()
    without_event_stream(context)
    sign_in(page, live_server, make_user("admin").email)
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.focus()
    page.keyboard.press("Enter")
    expect(nav).to_be_visible()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    page.keyboard.press("Escape")
    expect(nav).to_be_hidden()
    expect(menu).to_be_focused()
    context.close()


def test_at_1024_px_the_sidebar_and_sign_out_are_on_screen(browser: Browser, live_server, make_user):
    context = browser.new_context(viewport={"width": 1024, "height": 768})
    page = context.new_page()
    without_event_stream(context)
    sign_in(page, live_server, make_user("admin").email)
    expect(page.get_by_role("navigation", name="Main")).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_in_viewport()
    expect(page.get_by_role("button", name="Menu")).to_be_hidden()
    context.close()


def test_dark_mode_follows_the_system_and_a_chosen_theme_is_remembered(browser: Browser, live_server, make_user):
    context = browser.new_context(color_scheme="dark")
    page = context.new_page()
    without_event_stream(context)
    sign_in(page, live_server, make_user("viewer").email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    background = "() => getComputedStyle(document.body).color"  # the text colour flips with the theme
    dark = page.evaluate(background)
    toggle = page.locator("[data-theme-toggle]")
    expect(toggle).to_have_text("Theme: auto")
    toggle.click()
    expect(toggle).to_have_text("Theme: light")
    light = page.evaluate(background)
    assert light != dark
    page.reload()
    expect(page.locator("html")).to_have_attribute("data-theme", "light")
    assert page.evaluate(background) == light
    toggle = page.locator("[data-theme-toggle]")
    toggle.click()
    toggle.click()
    expect(toggle).to_have_text("Theme: auto")
    page.reload()
    assert page.evaluate(background) == dark
    context.close()
