"""The login API: one generic failure, safe input handling, dummy verifies (docs/security.md §1-5, 28)."""
import pytest

from tests.conftest import TEST_PASSWORD
from tests.integration.auth_helpers import api_login, comparable
from webapp.auth import service as auth_service


def test_login_returns_a_token_pair_and_the_user(client, make_user):
    user = make_user("operator")
    response = api_login(client, user.email)
    assert response.status_code == 200
    body = response.json
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert body["access_token"] and body["refresh_token"] and body["user"]["email"] == user.email
    me = client.get("/api/v3/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200 and me.json["user"]["id"] == user.id


def test_unknown_user_and_wrong_password_get_identical_responses(client, make_user):
    user = make_user("operator")
    unknown = api_login(client, "nobody@example.com", "wrong password!")
    wrong = api_login(client, user.email, "wrong password!")
    assert comparable(unknown) == comparable(wrong)
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "invalid_credentials"


def test_unknown_users_still_pay_a_bcrypt_verify(client, monkeypatch):
    burned = []
    monkeypatch.setattr(auth_service, "burn_verify", lambda password: burned.append(1))
    api_login(client, "nobody@example.com", "whatever password")
    assert burned == [1]


def test_email_is_case_folded_and_nfkc_normalised_for_login_and_counting(client, make_user):
    user = make_user("operator", email="ops.person@example.com")
    assert api_login(client, "OPS.PERSON@EXAMPLE.COM").status_code == 200
    assert api_login(client, "ｏｐｓ.person@example.com").status_code == 200  # full-width letters
    api_login(client, "Ops.Person@Example.com", "wrong password!")
    from webapp.extensions import db
    db.session.refresh(user)
    assert user.failed_login_count == 1


def test_73_byte_password_gets_422_at_register_and_generic_401_at_login(client, make_user, app, monkeypatch):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "open")
    long_password = "é" * 36 + "a"  # 73 UTF-8 bytes
    registered = client.post("/api/v3/auth/register", json={"email": "new@example.com", "password": long_password})
    assert registered.status_code == 422
    assert "password" in registered.json["error"]["details"]["fields"]
    user = make_user("operator")
    unknown = api_login(client, "nobody@example.com", long_password)
    response = api_login(client, user.email, long_password)
    assert response.status_code == 401 and comparable(response) == comparable(unknown)


def test_a_one_megabyte_body_gets_413(client):
    response = client.post("/api/v3/auth/login", data=b"{" + b" " * (1024 * 1024) + b"}",
                           content_type="application/json")
    assert response.status_code == 413


@pytest.mark.parametrize("password", [["a", "b"], {"x": 1}, 12345678, None])
def test_password_of_the_wrong_type_gets_422_never_500(client, password):
    for path in ("/api/v3/auth/login", "/api/v3/auth/register"):
        response = client.post(path, json={"email": "a@example.com", "password": password})
        assert response.status_code == 422, path
        assert "password" in response.json["error"]["details"]["fields"]


def test_malformed_json_gets_400(client):
    response = client.post("/api/v3/auth/login", data=b"{nope", content_type="application/json")
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed_json"


def test_pending_user_is_told_to_verify_only_after_the_right_password(client, make_user):
    user = make_user("viewer", status="pending")
    wrong = api_login(client, user.email, "wrong password!")
    assert wrong.status_code == 401 and wrong.json["error"]["code"] == "invalid_credentials"
    right = api_login(client, user.email, TEST_PASSWORD)
    assert right.status_code == 403 and right.json["error"]["code"] == "email_not_verified"


def test_a_user_object_never_carries_secrets(client, make_user):
    user = make_user("operator")
    response = api_login(client, user.email)
    assert set(response.json["user"]) == {"id", "email", "name", "role", "status", "email_verified_at",
                                          "locked_until", "last_login_at", "created_at"}
    assert "$2b$" not in response.get_data(as_text=True)


def test_a_locked_account_pays_the_same_dummy_verify_as_an_unknown_one(client, make_user, monkeypatch):
    user = make_user("operator")
    for _ in range(5):
        api_login(client, user.email, "wrong password!")
    burned, verified = [], []
    monkeypatch.setattr(auth_service, "burn_verify", lambda password: burned.append(password))
    monkeypatch.setattr(auth_service, "verify_password", lambda password, hashed: verified.append(password))
    response = api_login(client, user.email, TEST_PASSWORD)
    assert response.status_code == 401
    assert burned == [TEST_PASSWORD] and verified == []  # the dummy hash, never the account's own
