import re

from playwright.sync_api import Page, expect

from tests.conftest import TEST_PASSWORD


def test_operator_logs_in_lands_on_overview_and_logs_out(page: Page, live_server, make_user):
    user = make_user("operator")
    page.goto(f"{live_server}/")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)$"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(page.get_by_test_id("current-user")).to_contain_text(user.email)
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"{live_server}/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()


def test_wrong_password_shows_a_generic_message(page: Page, live_server, make_user):
    user = make_user("viewer")
    page.goto(f"{live_server}/login")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill("not the password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("Email or password is incorrect.")
