"""Per-IP rate limits with 429 + Retry-After, honouring TRUSTED_PROXIES through ProxyFix."""
import pytest

from tests.conftest import TEST_PASSWORD, FreshContextClient, csrf_token_from
from tests.integration.auth_helpers import api_login, audit_events, form_login

ENDPOINTS = {
    "login": ("/api/v3/auth/login", {"email": "a@example.com", "password": "whatever password"}),
    "register": ("/api/v3/auth/register", {"email": "a@example.com", "password": "short"}),
    "refresh": ("/api/v3/auth/refresh", {"refresh_token": "x.y"}),
    "verify": ("/api/v3/auth/verify-email", {"token": "nope"}),
}


@pytest.fixture
def limits(app, redis, monkeypatch):
    """Lower one limit (per minute) for this test; the counters start empty (Redis is flushed)."""
    def lower(action: str, per_minute: int) -> None:
        monkeypatch.setitem(app.config["RATE_LIMITS"], action, per_minute)
    return lower


@pytest.fixture
def proxied_app(app, db):
    """The same app built behind one trusted proxy: ProxyFix is installed once, at create_app."""
    from webapp import create_app

    behind_proxy = create_app({"TESTING": True, "TRUSTED_PROXIES": 1})
    behind_proxy.test_client_class = FreshContextClient
    return behind_proxy


@pytest.mark.parametrize("action", sorted(ENDPOINTS))
def test_credential_endpoints_answer_429_with_retry_after_over_the_limit(client, limits, action):
    limits(action, 3)
    path, body = ENDPOINTS[action]
    statuses = [client.post(path, json=body).status_code for _ in range(3)]
    assert 429 not in statuses
    limited = client.post(path, json=body)
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60


def test_resend_verification_is_limited_too(client, limits):
    limits("verify", 1)
    client.post("/api/v3/auth/resend-verification", json={"email": "a@example.com"})
    assert client.post("/api/v3/auth/resend-verification", json={"email": "a@example.com"}).status_code == 429


def test_login_page_is_limited(client, limits, make_user):
    limits("login", 2)
    user = make_user("viewer")
    form_login(client, user.email, "wrong password!")
    form_login(client, user.email, "wrong password!")
    response = form_login(client, user.email)
    assert response.status_code == 429 and "Retry-After" in response.headers


def test_the_window_moves_so_no_minute_boundary_lets_a_second_burst_through(client, limits, redis):
    limits("login", 2)
    assert [api_login(client, "a@example.com", "x").status_code for _ in range(3)] == [401, 401, 429]
    [key] = redis.keys("flowdeck:ratelimit*")
    assert redis.type(key) == b"list" and redis.llen(key) == 2  # one timestamp per counted request


def test_spoofed_left_most_forwarded_for_does_not_escape_the_limit(proxied_app, redis):
    client = proxied_app.test_client()
    proxied_app.config["RATE_LIMITS"]["login"] = 2  # this app's own settings, dropped after the test
    spoofed = [{"X-Forwarded-For": f"10.0.0.{n}, 203.0.113.9"} for n in range(3)]
    statuses = [api_login(client, "a@example.com", "x", headers=headers).status_code for headers in spoofed]
    assert statuses == [401, 401, 429]
    other = api_login(client, "a@example.com", "x", headers={"X-Forwarded-For": "10.0.0.1, 203.0.113.10"})
    assert other.status_code == 401


def test_forwarded_for_is_ignored_without_trusted_proxies(client, limits):
    limits("login", 2)
    statuses = [api_login(client, "a@example.com", "x", headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                for n in range(3)]
    assert statuses == [401, 401, 429]


def test_audit_rows_record_the_address_the_trusted_proxy_saw(proxied_app, make_user):
    user = make_user("viewer")
    api_login(proxied_app.test_client(), user.email, headers={"X-Forwarded-For": "10.9.9.9, 203.0.113.7"})
    assert audit_events("auth.login")[-1].ip == "203.0.113.7"


def change_password(client, current: str, new: str = "a brand new passphrase"):
    token = csrf_token_from(client.get("/account").get_data(as_text=True))
    return client.post("/account/password", data={"csrf_token": token, "current_password": current,
                                                  "new_password": new})


def test_password_change_is_rate_limited(client, limits, login_as):
    login_as("viewer")
    limits("password", 2)
    assert [change_password(client, "wrong password!").status_code for _ in range(3)] == [422, 422, 429]


def test_wrong_current_passwords_lock_the_account_like_failed_logins(client, app, login_as):
    user = login_as("viewer")
    for _ in range(app.config["LOCKOUT_THRESHOLD"]):
        assert change_password(client, "wrong password!").status_code == 422
    assert len(audit_events("auth.locked")) == 1
    assert len([e for e in audit_events("user.password_change") if e.outcome == "failure"]) == 5
    # The lock ends the session at the next request, and the right password no longer signs in.
    assert client.get("/account").status_code == 302
    assert api_login(client, user.email, TEST_PASSWORD).status_code == 401


def test_a_right_current_password_resets_the_failure_count(client, login_as):
    user = login_as("viewer")
    change_password(client, "wrong password!")
    assert change_password(client, TEST_PASSWORD).status_code == 302
    from webapp.extensions import db
    db.session.refresh(user)
    assert user.failed_login_count == 0


def test_admin_routes_are_rate_limited_per_address(client, limits, api_headers):
    headers, _ = api_headers("admin")
    limits("admin", 3)
    statuses = [client.get("/api/v3/users", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/v3/runs", headers=headers).status_code == 200  # not an admin route
