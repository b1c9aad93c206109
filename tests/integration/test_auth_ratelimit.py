"""Per-IP rate limits with 429 + Retry-After, honouring TRUSTED_PROXIES (docs/security.md §11)."""
import pytest

from tests.integration.auth_helpers import api_login, form_login
from webapp.clock import frozen_at, utcnow

ENDPOINTS = {
    "login": ("/api/v3/auth/login", {"email": "a@example.com", "password": "whatever password"}),
    "register": ("/api/v3/auth/register", {"email": "a@example.com", "password": "short"}),
    "refresh": ("/api/v3/auth/refresh", {"refresh_token": "x.y"}),
    "verify": ("/api/v3/auth/verify-email", {"token": "nope"}),
}


@pytest.fixture
def limits(app, redis, monkeypatch):
    """Lower one limit; time stands still mid-window so a minute boundary cannot reset the count."""
    def lower(action: str, per_minute: int) -> None:
        monkeypatch.setitem(app.config["RATE_LIMITS"], action, per_minute)
    with frozen_at(utcnow().replace(second=20)):
        yield lower


@pytest.mark.parametrize("action", sorted(ENDPOINTS))
def test_credential_endpoints_answer_429_with_retry_after_over_the_limit(client, limits, action):
    limits(action, 3)
    path, body = ENDPOINTS[action]
    statuses = [client.post(path, json=body).status_code for _ in range(3)]
    assert 429 not in statuses
    limited = client.post(path, json=body)
    assert limited.status_code == 429 and limited.json["error"]["code"] == "rate_limited"
    assert limited.headers["Retry-After"] == "40"


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


def test_spoofed_left_most_forwarded_for_does_not_escape_the_limit(client, limits, app, monkeypatch):
    monkeypatch.setitem(app.config, "TRUSTED_PROXIES", 1)
    limits("login", 2)
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
