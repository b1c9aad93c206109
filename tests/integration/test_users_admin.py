"""Admin user management over the API and the htmx console (docs/security.md §18, 24)."""
import re

import pytest

from tests.conftest import csrf_token_from
from tests.integration.auth_helpers import audit_events
from webapp.extensions import db as database
from webapp.users.models import User


def test_admin_lists_users_with_filters_and_cursor(client, api_headers, make_user):
    headers, _ = api_headers("admin")
    for n in range(3):
        make_user("operator", email=f"op{n}@example.com")
    make_user("viewer", email="viewer@example.com", status="suspended")
    first = client.get("/api/v3/users?role=operator&limit=2", headers=headers).json
    assert [u["email"] for u in first["items"]] == ["op0@example.com", "op1@example.com"]
    second = client.get(f"/api/v3/users?role=operator&limit=2&cursor={first['next_cursor']}", headers=headers).json
    assert [u["email"] for u in second["items"]] == ["op2@example.com"] and second["next_cursor"] is None
    suspended = client.get("/api/v3/users?status=suspended", headers=headers).json["items"]
    assert [u["email"] for u in suspended] == ["viewer@example.com"]
    assert [u["email"] for u in client.get("/api/v3/users?q=OP1", headers=headers).json["items"]] == ["op1@example.com"]


@pytest.mark.parametrize("query", ["status=gone", "role=root", "limit=0", "cursor=%%%", "extra=1"])
def test_bad_list_filters_are_4xx(client, api_headers, query):
    headers, _ = api_headers("admin")
    assert client.get(f"/api/v3/users?{query}", headers=headers).status_code in (400, 422)


def test_admin_creates_an_active_user_and_it_is_audited(client, api_headers):
    headers, admin = api_headers("admin")
    response = client.post("/api/v3/users", headers=headers, json={"email": "New@Example.com", "name": "N",
                                                                  "role": "operator", "password": "a fine passphrase"})
    assert response.status_code == 201
    user = response.json["user"]
    assert (user["email"], user["status"], user["role"]) == ("new@example.com", "active", "operator")
    assert [e.actor_id for e in audit_events("user.create")] == [admin.id]


def test_admin_gets_patches_and_missing_users_are_404(client, api_headers, make_user):
    headers, _ = api_headers("admin")
    user = make_user("viewer")
    response = client.patch(f"/api/v3/users/{user.id}", headers=headers, json={"name": "Renamed", "role": "operator"})
    assert response.status_code == 200 and response.json["user"]["role"] == "operator"
    assert client.get(f"/api/v3/users/{user.id}", headers=headers).json["user"]["name"] == "Renamed"
    assert client.get("/api/v3/users/99999", headers=headers).status_code == 404
    assert client.patch(f"/api/v3/users/{user.id}", headers=headers, json={"role": "root"}).status_code == 422


def test_the_last_active_admin_cannot_be_demoted_or_suspended(client, api_headers):
    headers, admin = api_headers("admin")
    assert client.patch(f"/api/v3/users/{admin.id}", headers=headers, json={"role": "viewer"}).status_code == 409
    assert client.patch(f"/api/v3/users/{admin.id}", headers=headers, json={"status": "suspended"}).status_code == 409
    both = client.patch(f"/api/v3/users/{admin.id}", headers=headers, json={"name": "Renamed", "role": "viewer"})
    assert both.status_code == 409
    assert client.get(f"/api/v3/users/{admin.id}", headers=headers).json["user"]["name"] == ""  # all or nothing


@pytest.mark.parametrize("role", ["viewer", "operator"])
def test_non_admins_get_403_from_the_user_api(client, api_headers, make_user, role):
    headers, _ = api_headers(role)
    target = make_user("viewer")
    assert client.get("/api/v3/users", headers=headers).status_code == 403
    assert client.post(f"/api/v3/users/{target.id}/lock", headers=headers, json={}).status_code == 403
    assert client.get("/api/v3/audit", headers=headers).status_code == 403


def test_lock_body_is_validated(client, api_headers, make_user):
    headers, _ = api_headers("admin")
    user = make_user("operator")
    for body in ({"minutes": 0}, {"minutes": "ten"}, {"minutes": 10**9}, {"reason": ["x"]}):
        assert client.post(f"/api/v3/users/{user.id}/lock", headers=headers, json=body).status_code == 422


def admin_page(client, login_as):
    login_as("admin")
    return csrf_token_from(client.get("/users").get_data(as_text=True))


def test_users_page_shows_status_and_lock_badges(client, login_as, make_user, api_headers):
    target = make_user("operator", email="locked.one@example.com")
    headers, _ = api_headers("admin")
    client.post(f"/api/v3/users/{target.id}/lock", headers=headers, json={"minutes": 30})
    admin_page(client, login_as)
    page = client.get("/users?q=locked.one").get_data(as_text=True)
    assert "locked.one@example.com" in page and "locked until" in page and 'data-testid="lock-badge"' in page


def test_htmx_actions_answer_with_the_re_rendered_row(client, login_as, make_user):
    target = make_user("operator")
    token = admin_page(client, login_as)
    htmx = {"HX-Request": "true", "X-CSRFToken": token}
    locked = client.post(f"/users/{target.id}/lock", headers=htmx)
    html = locked.get_data(as_text=True)
    assert locked.status_code == 200 and html.lstrip().startswith(f'<tr id="user-{target.id}"')
    assert "locked until" in html and "Unlock" in html
    unlocked = client.post(f"/users/{target.id}/unlock", headers=htmx).get_data(as_text=True)
    assert "locked until" not in unlocked
    suspended = client.post(f"/users/{target.id}/status", headers=htmx, data={"status": "suspended"})
    assert ">suspended<" in suspended.get_data(as_text=True)
    role = client.post(f"/users/{target.id}/role", headers=htmx, data={"role": "admin"})
    assert role.status_code == 200
    database.session.expire_all()
    changed = database.session.get(User, target.id)
    assert (changed.status, changed.role) == ("suspended", "admin")


def test_htmx_action_refused_by_the_service_shows_the_reason_in_the_row(client, login_as):
    token = admin_page(client, login_as)
    me = database.session.query(User).filter_by(role="admin").one()
    response = client.post(f"/users/{me.id}/lock", headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200 and "cannot lock your own account" in response.get_data(as_text=True)


def test_user_detail_page_shows_sessions_and_recent_events(client, login_as, make_user):
    target = make_user("operator")
    token = admin_page(client, login_as)
    client.post(f"/users/{target.id}/lock", headers={"HX-Request": "true", "X-CSRFToken": token})
    page = client.get(f"/users/{target.id}").get_data(as_text=True)
    assert target.email in page and "auth.locked" in page
    assert client.get("/users/99999").status_code == 404


def test_viewer_sees_no_admin_pages_or_nav(client, login_as):
    login_as("viewer")
    overview = client.get("/").get_data(as_text=True)
    for path in ("/users", "/audit", "/mail"):
        assert client.get(path).status_code == 403
        assert f'href="{path}"' not in overview


def test_admin_ends_one_browser_session_of_a_user_from_the_detail_page(app, client, login_as, make_user):
    from tests.integration.auth_helpers import form_login
    from webapp.auth.models import UserSession

    target = make_user("operator")
    first, second = app.test_client(), app.test_client()
    form_login(first, target.email)
    form_login(second, target.email)
    token = admin_page(client, login_as)
    page = client.get(f"/users/{target.id}").get_data(as_text=True)
    assert page.count('data-testid="admin-session-row"') == 2
    rows = database.session.query(UserSession).filter_by(user_id=target.id).order_by(UserSession.created_at).all()
    response = client.post(f"/users/{target.id}/sessions/{rows[0].id}/revoke", data={"csrf_token": token})
    assert response.status_code == 302
    assert first.get("/account").status_code == 302 and second.get("/account").status_code == 200
    other = make_user("viewer")
    assert client.post(f"/users/{other.id}/sessions/{rows[1].id}/revoke", data={"csrf_token": token}).status_code == 404


def test_users_page_paginates(client, login_as, make_user, monkeypatch):
    from webapp.users import views

    monkeypatch.setattr(views, "PAGE_SIZE", 2)
    for n in range(3):
        make_user("viewer", email=f"page{n}@example.com")
    admin_page(client, login_as)
    first = client.get("/users?role=viewer").get_data(as_text=True)
    assert "page0@example.com" in first and "page2@example.com" not in first
    after = re.search(r'href="(/users\?after=[^"]+)"', first).group(1).replace("&amp;", "&")
    second = client.get(after).get_data(as_text=True)
    assert "page2@example.com" in second and "page0@example.com" not in second


def test_pending_user_is_told_to_verify_on_the_login_page_only_with_the_right_password(client, make_user):
    from tests.conftest import TEST_PASSWORD
    from tests.integration.auth_helpers import form_login

    user = make_user("viewer", status="pending")
    wrong = form_login(client, user.email, "wrong password!").get_data(as_text=True)
    assert "Email or password is incorrect." in wrong and "Verify your email" not in wrong
    right = form_login(client, user.email, TEST_PASSWORD).get_data(as_text=True)
    assert "Verify your email address first" in right


@pytest.mark.parametrize("key", [[10**30], ["x"], [1.5], [-1]])
def test_cursors_we_could_not_have_issued_are_400_not_500(client, api_headers, key):
    from webapp.api.pagination import encode_cursor

    headers, _ = api_headers("admin")
    response = client.get(f"/api/v3/users?cursor={encode_cursor(key)}", headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


@pytest.mark.parametrize("after", [str(10**30), "9" * 5000, "²", "-3"])
def test_users_page_ignores_an_out_of_range_after(client, login_as, after):
    login_as("admin")
    assert client.get("/users", query_string={"after": after}).status_code == 200
