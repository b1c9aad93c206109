"""An admin adds a user from the console; the new user signs in with the password given."""
from __future__ import annotations

import re

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


def test_an_admin_invites_a_user_who_chooses_a_password_from_the_mailed_link(page: Page, browser: Browser,
                                                                            live_server, make_user):
    """The link comes from PUBLIC_BASE_URL (the default, port 5000), not from the server the admin
    used; its path is opened on the test server."""
    without_event_stream(page)
    sign_in(page, live_server, make_user("admin").email)
    page.goto(f"{live_server}/users")
    page.get_by_test_id("add-user").click()
    form = page.get_by_test_id("add-user-form")
    form.get_by_label("Email").fill("invited.from.console@example.com")
    form.get_by_label("Role").select_option("operator")
    form.get_by_test_id("create-user").click()
    expect(page.get_by_role("alert")).to_contain_text("Invited invited.from.console@example.com as operator")
    expect(page.get_by_test_id("resend-invite")).to_be_visible()

    page.get_by_role("link", name="Mail").click()
    mail = page.get_by_test_id("outbox-mail").filter(has_text="invited.from.console@example.com").first
    expect(mail).to_contain_text("You are invited to Flowdeck")
    link = re.search(r"\S+/invite/\S+", mail.locator("pre").inner_text()).group(0)
    assert link.startswith("http://127.0.0.1:5000/invite/") and not link.startswith(live_server)
    path = link.removeprefix("http://127.0.0.1:5000")

    other = browser.new_context()
    without_event_stream(other)
    newcomer = other.new_page()
    newcomer.goto(f"{live_server}{path}")
    expect(newcomer.get_by_role("heading", name="Choose your password")).to_be_visible()
    newcomer.get_by_label("New password").fill("my own passphrase")
    newcomer.get_by_label("The same password again").fill("my own passphrase")
    newcomer.get_by_test_id("set-password").click()
    expect(newcomer.get_by_role("alert")).to_contain_text("Your password is set")
    newcomer.get_by_label("Email").fill("invited.from.console@example.com")
    newcomer.get_by_label("Password").fill("my own passphrase")
    newcomer.get_by_role("button", name="Sign in").click()
    expect(newcomer.get_by_test_id("current-user")).to_contain_text("operator")

    newcomer.goto(f"{live_server}{path}")  # the link worked once
    expect(newcomer.get_by_test_id("invite-invalid")).to_contain_text("invalid, used or expired")
    other.close()
