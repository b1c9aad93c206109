"""SECURITY items 19-22 as far as the foundation goes: CSP, headers, cookies, CSRF."""
import re

from tests.conftest import TEST_PASSWORD, csrf_token_from

NONCE = re.compile(r"'nonce-([^']+)'")


def script_src(response) -> str:
    policy = dict(part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return policy["script-src"]


def test_every_html_response_has_a_fresh_nonce_and_no_unsafe_script_sources(client):
    first, second = client.get("/login"), client.get("/login")
    nonces = [NONCE.search(script_src(r)).group(1) for r in (first, second)]
    assert nonces[0] != nonces[1]
    for response, nonce in zip((first, second), nonces, strict=True):
        assert "unsafe-inline" not in script_src(response) and "unsafe-eval" not in script_src(response)
        html = response.get_data(as_text=True)
        scripts = re.findall(r"<script[^>]*>", html)
        assert scripts and all(f'nonce="{nonce}"' in tag for tag in scripts)


def test_csp_forbids_objects_base_and_framing(client):
    policy = client.get("/login").headers["Content-Security-Policy"]
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in policy


def test_error_pages_have_the_csp_too(client):
    assert "nonce-" in client.get("/nowhere").headers["Content-Security-Policy"]


def test_htmx_is_configured_safely(client):
    html = client.get("/login").get_data(as_text=True)
    config = re.search(r"<meta name=\"htmx-config\" content='([^']+)'>", html).group(1)
    assert '"allowEval": false' in config
    assert '"selfRequestsOnly": true' in config
    assert '"allowScriptTags": false' in config


def test_nosniff_and_referrer_policy(client):
    response = client.get("/login")
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    assert "max-age" in client.get("/login", base_url="https://localhost").headers["Strict-Transport-Security"]


def test_authenticated_pages_are_not_cached(client, login_as):
    login_as("viewer")
    assert client.get("/").headers["Cache-Control"] == "no-store"


def test_login_form_without_csrf_token_is_refused(client, make_user):
    user = make_user("viewer")
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "CSRF" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still anonymous


def test_session_cookie_is_httponly_and_samesite_lax(client, make_user):
    user = make_user("viewer")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("flowdeck_session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cross_site_unsafe_request_is_refused(client, make_user):
    user = make_user("viewer")
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token},
                           headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403


def test_logout_is_post_only_and_needs_csrf(client, login_as):
    login_as("viewer")
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 400
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302


def test_a_session_cookie_alone_reads_the_api_but_cannot_change_state(client, login_as):
    user = login_as("admin")
    assert client.get("/api/v3/auth/me").status_code == 200  # safe methods accept the cookie
    workflow = {"name": "cookie-made", "steps": [{"id": "a", "uses": "control.sleep", "with": {"seconds": 0}}]}
    for method, path, body in (("post", "/api/v3/workflows", workflow),
                               ("post", f"/api/v3/users/{user.id}/lock", {"minutes": 5}),
                               ("post", "/api/v3/auth/logout", None)):
        response = getattr(client, method)(path, json=body)
        assert response.status_code == 401, (method, path)
    assert client.get("/api/v3/workflows/cookie-made").status_code == 404
    assert client.get("/api/v3/auth/me").status_code == 200  # and the sessions were not ended
