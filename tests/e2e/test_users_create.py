"""An admin adds a user from the console; the new user signs in with the password given."""
from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_console_shell import without_event_stream
from tests.e2e.test_users_admin import sign_in

PASSWORD = "handed over in person"


def test_an_admin_adds_an_operator_who_then_signs_in(page: Page, browser: Browser, live_server, make_user):
    without_event_stream(page)
    sign_in(page, live_server, make_user("admin").email)
    page.goto(f"{live_server}/users")
    page.get_by_test_id("add-user").click()
    form = page.get_by_test_id("add-user-form")
    form.get_by_label("Email").fill("added.from.console@example.com")
    form.get_by_label("Name").fill("Added Person")
    form.get_by_label("Role").select_option("operator")
    form.get_by_label("First password").fill(PASSWORD)
    form.get_by_test_id("create-user").click()
    expect(page.get_by_role("alert")).to_contain_text("Created added.from.console@example.com as operator")
    expect(page.get_by_role("heading", name="added.from.console@example.com")).to_be_visible()

    other = browser.new_context()
    without_event_stream(other)
    newcomer = other.new_page()
    newcomer.goto(f"{live_server}/login")
    newcomer.get_by_label("Email").fill("added.from.console@example.com")
    newcomer.get_by_label("Password").fill(PASSWORD)
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer.get_by_test_id("current-user")).to_contain_text("operator")
    other.close()
