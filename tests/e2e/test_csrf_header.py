"""htmx requests from the console carry the page's CSRF token in X-CSRFToken (console.js)."""
from playwright.sync_api import Page, expect

from tests.e2e.test_users_admin import sign_in


def test_an_htmx_action_sends_the_meta_tag_token_as_x_csrftoken(page: Page, live_server, make_user):
    admin = make_user("admin")
    operator = make_user("operator")
    sign_in(page, live_server, admin.email)
    page.get_by_role("link", name="Users").click()
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    assert token
    page.on("dialog", lambda dialog: dialog.accept())
    row = page.locator(f'tr[data-email="{operator.email}"]')
    with page.expect_request(lambda request: request.method == "POST" and request.url.endswith("/lock")) as sent:
        row.get_by_role("button", name="Lock").click()
    assert sent.value.headers.get("x-csrftoken") == token
    assert sent.value.headers.get("hx-request") == "true"
    expect(row.get_by_test_id("lock-badge")).to_contain_text("locked until")
