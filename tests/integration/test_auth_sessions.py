"""Browser sessions: a server-side row checked on every request (docs/security.md §12-14, 18, 21)."""
from datetime import timedelta

import pytest

from tests.conftest import csrf_token_from
from tests.integration.auth_helpers import api_login, audit_events, bearer, form_login
from webapp.auth.identity import COOKIE_KEY
from webapp.auth.models import UserSession
from webapp.auth.sessions import digest
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db as database


def cookie_secret(client) -> str | None:
    with client.session_transaction() as session:
        return session.get(COOKIE_KEY)


def signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def admin_client(app, make_user):
    admin = make_user("admin")
    other = app.test_client()
    assert form_login(other, admin.email).status_code == 302
    return other, admin


def post_with_csrf(client, path, **data):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def test_login_creates_a_server_side_session_row(client, login_as):
    user = login_as("operator")
    [row] = database.session.query(UserSession).all()
    assert row.user_id == user.id and row.kind == "browser"
    secret = cookie_secret(client)
    assert secret and row.id != secret  # the database keeps only a hash


def test_session_id_rotates_at_login_and_a_planted_one_is_dropped(client, make_user):
    user = make_user("operator")
    with client.session_transaction() as session:
        session[COOKIE_KEY] = "attacker-chosen"
    assert form_login(client, user.email).status_code == 302
    first = cookie_secret(client)
    assert first not in (None, "attacker-chosen")
    post_with_csrf(client, "/logout")
    assert form_login(client, user.email).status_code == 302
    assert cookie_secret(client) not in (None, first)


def test_logout_by_get_is_refused(client, login_as):
    login_as("viewer")
    assert client.get("/logout").status_code == 405
    assert signed_in(client)


def test_logout_without_csrf_token_is_refused(client, login_as):
    login_as("viewer")
    assert client.post("/logout").status_code == 400
    assert signed_in(client)


def test_logout_ends_the_server_side_session(client, login_as):
    login_as("viewer")
    secret = cookie_secret(client)
    assert post_with_csrf(client, "/logout").status_code == 302
    assert not signed_in(client)
    with client.session_transaction() as session:  # replaying the old cookie does not help
        session[COOKIE_KEY] = secret
        session["_user_id"] = "1"
    assert not signed_in(client)


def test_admin_revoke_logs_the_browser_out_at_its_next_request(app, client, login_as, make_user):
    user = login_as("operator")
    admin, _ = admin_client(app, make_user)
    token = csrf_token_from(admin.get("/users").get_data(as_text=True))
    assert admin.post(f"/users/{user.id}/revoke-sessions", data={"csrf_token": token}).status_code == 302
    htmx = client.get("/account", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/login")
    page = client.get("/account")
    assert page.status_code == 302 and "/login" in page.headers["Location"]


@pytest.mark.parametrize("action", ["lock", "suspend"])
def test_lock_and_suspend_end_sessions_and_tokens(client, login_as, api_headers, action):
    user = login_as("operator")
    access = api_login(client, user.email).json["access_token"]
    headers, _ = api_headers("admin")
    if action == "lock":
        response = client.post(f"/api/v3/users/{user.id}/lock", headers=headers, json={"minutes": 10})
    else:
        response = client.patch(f"/api/v3/users/{user.id}", headers=headers, json={"status": "suspended"})
    assert response.status_code == 200
    assert not signed_in(client)
    assert client.get("/api/v3/auth/me", headers=bearer(access)).status_code == 401


def test_idle_timeout_ends_a_browser_session(client, login_as, app):
    login_as("viewer")
    idle = timedelta(minutes=app.config["SESSION_IDLE_MINUTES"])
    first = utcnow() + idle - timedelta(minutes=1)
    second = first + idle - timedelta(minutes=1)  # alive only because the first request touched it
    for moment in (first, second):
        with frozen_at(moment):
            assert signed_in(client)
    with frozen_at(second + idle):
        assert not signed_in(client)
    [row] = database.session.query(UserSession).all()
    assert row.revoked_reason == "idle"


def test_absolute_timeout_ends_even_a_busy_session(client, login_as, app):
    login_as("viewer")
    start, step = utcnow(), timedelta(minutes=app.config["SESSION_IDLE_MINUTES"] - 1)
    absolute = timedelta(hours=app.config["SESSION_ABSOLUTE_HOURS"])
    moment = start
    while moment + step < start + absolute:
        moment += step
        with frozen_at(moment):
            assert signed_in(client)
    with frozen_at(start + absolute):
        assert not signed_in(client)


def test_password_change_ends_other_sessions_but_keeps_this_one(app, client, login_as):
    user = login_as("operator")
    other = app.test_client()
    assert form_login(other, user.email).status_code == 302
    response = post_with_csrf(client, "/account/password", current_password="correct horse battery staple",
                              new_password="a brand new passphrase")
    assert response.status_code == 302
    assert signed_in(client) and not signed_in(other)
    assert form_login(other, user.email, "a brand new passphrase").status_code == 302
    assert [e.actor_id for e in audit_events("user.password_change")] == [user.id]


def test_password_change_needs_the_current_password(client, login_as):
    login_as("operator")
    response = post_with_csrf(client, "/account/password", current_password="not it at all",
                              new_password="a brand new passphrase")
    assert response.status_code == 422 and "not correct" in response.get_data(as_text=True)


def test_account_page_lists_and_revokes_own_sessions(app, client, login_as):
    user = login_as("operator")
    other = app.test_client()
    form_login(other, user.email)
    rows = database.session.query(UserSession).filter_by(user_id=user.id).all()
    other_row = next(row for row in rows if row.id != digest(cookie_secret(client)))
    assert client.get("/account").get_data(as_text=True).count('data-testid="session-row"') == 2
    assert post_with_csrf(client, f"/account/sessions/{other_row.id}/revoke").status_code == 302
    assert not signed_in(other) and signed_in(client)


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user("viewer")
    response = form_login(client, user.email)
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_a_new_password_over_72_bytes_is_refused_with_422_and_the_old_one_still_works(app, client, login_as):
    user = login_as("operator")
    response = post_with_csrf(client, "/account/password", current_password="correct horse battery staple",
                              new_password="é" * 36 + "a")  # 73 UTF-8 bytes
    assert response.status_code == 422 and "72" in response.get_data(as_text=True)
    assert form_login(app.test_client(), user.email).status_code == 302
    assert audit_events("user.password_change") == []
