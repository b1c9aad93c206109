"""Admin user console in Chromium: lock and unlock an operator; a viewer sees no admin pages."""
import re

from playwright.sync_api import Browser, Page, expect

from tests.conftest import TEST_PASSWORD


def sign_in(page: Page, base: str, email: str) -> None:
    """Submit the login form and wait until the page it leads to has loaded, console.js included:
    a key pressed before that reaches no handler."""
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()


def test_admin_locks_an_operator_who_then_cannot_sign_in_until_unlocked(page: Page, browser: Browser,
                                                                        live_server, make_user):
    admin = make_user("admin")
    operator = make_user("operator")
    sign_in(page, live_server, admin.email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_role("link", name="Users").click()
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator(f'tr[data-email="{operator.email}"]')
    row.get_by_role("button", name="Lock").click()
    expect(row.get_by_test_id("lock-badge")).to_contain_text("locked until")
    expect(row.get_by_role("button", name="Unlock")).to_be_visible()

    other = browser.new_context()
    operator_page = other.new_page()
    sign_in(operator_page, live_server, operator.email)
    expect(operator_page.get_by_role("alert")).to_have_text("Email or password is incorrect.")

    row.get_by_role("button", name="Unlock").click()
    expect(row.get_by_test_id("lock-badge")).to_have_count(0)
    sign_in(operator_page, live_server, operator.email)
    expect(operator_page.get_by_role("heading", name="Overview")).to_be_visible()
    expect(operator_page.get_by_test_id("current-user")).to_contain_text(operator.email)
    other.close()


def test_a_viewer_sees_no_admin_pages(page: Page, live_server, make_user):
    viewer = make_user("viewer")
    sign_in(page, live_server, viewer.email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    for label in ("Users", "Audit", "Mail"):
        expect(nav.get_by_role("link", name=label, exact=True)).to_have_count(0)
    for path in ("/users", "/audit", "/mail"):
        response = page.goto(f"{live_server}{path}")
        assert response.status == 403
        expect(page).to_have_url(re.compile(re.escape(path) + "$"))
