"""NUL characters, which PostgreSQL text columns refuse, get a clear 4xx everywhere in accounts."""
import pytest

from tests.conftest import csrf_token_from
from tests.integration.auth_helpers import form_login

NUL_BODIES = [
    ("/api/v3/auth/login", {"email": "a\u0000@example.com", "password": "whatever password"}),
    ("/api/v3/auth/register", {"email": "a@example.com", "password": "a fine passphrase", "name": "n\u0000"}),
    ("/api/v3/auth/refresh", {"refresh_token": "a\u0000.b"}),
    ("/api/v3/auth/resend-verification", {"email": "a\u0000@example.com"}),
    ("/api/v3/auth/verify-email", {"\u0000": "x"}),
]


@pytest.mark.parametrize(("path", "body"), NUL_BODIES)
def test_nul_in_a_json_body_is_a_422(client, path, body):
    response = client.post(path, json=body)
    assert response.status_code == 422 and "NUL" in response.json["error"]["message"]


def test_nul_in_query_strings_and_ids_is_never_a_500(client, api_headers, login_as):
    headers, _ = api_headers("admin")
    assert client.get("/api/v3/users?q=a%00b", headers=headers).status_code == 422
    assert client.get("/api/v3/audit?actor=x%00y", headers=headers).status_code == 422
    assert client.delete("/api/v3/auth/sessions/a%00b", headers=headers).status_code == 404
    login_as("admin")
    assert client.get("/users?q=a%00b").status_code == 200
    assert client.get("/audit?event=a%00b&actor=x%00y&cursor=%00").status_code in (200, 400)


def test_nul_in_login_and_register_forms_is_a_clear_answer(client, app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "open")
    assert form_login(client, "a\x00@example.com", "pass\x00word").status_code == 401
    token = csrf_token_from(client.get("/register").get_data(as_text=True))
    response = client.post("/register", data={"csrf_token": token, "email": "a\x00@example.com",
                                              "password": "a fine passphrase", "name": "x"})
    assert response.status_code == 422 and "NUL" in response.get_data(as_text=True)
