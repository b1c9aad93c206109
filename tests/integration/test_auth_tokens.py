"""Access and refresh tokens over HTTP: revocation, rotation, reuse, confusion (docs/security.md §15-17)."""
from datetime import timedelta

import jwt
import pytest
from sqlalchemy import select

from tests.integration.auth_helpers import api_login, audit_events, bearer, in_parallel
from webapp.auth.models import UserSession
from webapp.auth.sessions import digest
from webapp.auth.tokens import ALGORITHM, AUDIENCE, ISSUER
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db as database


@pytest.fixture
def tokens(client, make_user):
    user = make_user("operator")
    body = api_login(client, user.email).json
    return body, user


def refresh(client, token):
    return client.post("/api/v3/auth/refresh", json={"refresh_token": token})


def me(client, access_token):
    return client.get("/api/v3/auth/me", headers=bearer(access_token))


def test_access_token_is_rejected_after_logout(client, tokens):
    body, _ = tokens
    assert client.post("/api/v3/auth/logout", headers=bearer(body["access_token"])).status_code == 204
    assert me(client, body["access_token"]).status_code == 401
    assert refresh(client, body["refresh_token"]).status_code == 401


def test_refresh_rotates_both_tokens(client, tokens):
    body, user = tokens
    renewed = refresh(client, body["refresh_token"])
    assert renewed.status_code == 200
    assert renewed.json["refresh_token"] != body["refresh_token"]
    assert renewed.json["user"]["id"] == user.id
    assert me(client, renewed.json["access_token"]).status_code == 200
    assert refresh(client, renewed.json["refresh_token"]).status_code == 200


def test_reusing_a_spent_refresh_token_revokes_the_whole_family(client, tokens):
    body, user = tokens
    renewed = refresh(client, body["refresh_token"]).json
    replay = refresh(client, body["refresh_token"])
    assert replay.status_code == 401 and replay.json["error"]["code"] == "invalid_token"
    assert refresh(client, renewed["refresh_token"]).status_code == 401
    assert me(client, renewed["access_token"]).status_code == 401
    [event] = audit_events("auth.token_reuse")
    assert event.actor_id == user.id and event.outcome == "denied"


def test_ten_parallel_refreshes_of_one_token_give_exactly_one_success(app, client, tokens):
    body, _ = tokens
    token = body["refresh_token"]
    statuses = in_parallel(app, 10, lambda c: refresh(c, token).status_code)
    assert sorted(statuses) == [200] + [401] * 9


def test_refresh_token_is_refused_as_access_token(client, tokens):
    body, _ = tokens
    assert me(client, body["refresh_token"]).status_code == 401


def test_access_token_is_refused_as_refresh_token(client, tokens):
    body, _ = tokens
    assert refresh(client, body["access_token"]).status_code == 401


def claims_of(app, token):
    return jwt.decode(token, app.config["JWT_SECRET"], algorithms=[ALGORITHM], audience=AUDIENCE, issuer=ISSUER)


@pytest.mark.parametrize("case", ["alg_none", "wrong_key", "no_exp", "expired", "wrong_aud", "wrong_iss", "no_sid"])
def test_forged_or_stale_access_tokens_are_refused(app, client, tokens, case):
    body, _ = tokens
    claims = claims_of(app, body["access_token"])
    key, algorithm = app.config["JWT_SECRET"], ALGORITHM
    if case == "alg_none":
        algorithm, key = "none", None
    elif case == "wrong_key":
        key = "another key that is long enough for HS256 0123456789"
    elif case == "no_exp":
        del claims["exp"]
    elif case == "expired":
        claims["exp"] = int((utcnow() - timedelta(minutes=1)).timestamp())
    elif case == "wrong_aud":
        claims["aud"] = "someone-else"
    elif case == "wrong_iss":
        claims["iss"] = "someone-else"
    elif case == "no_sid":
        del claims["sid"]
    token = jwt.encode(claims, key, algorithm=algorithm)
    assert me(client, token).status_code == 401
    untouched = jwt.encode(claims_of(app, body["access_token"]), app.config["JWT_SECRET"], algorithm=ALGORITHM)
    assert me(client, untouched).status_code == 200


def test_access_token_expires_after_fifteen_minutes(client, tokens):
    body, _ = tokens
    with frozen_at(utcnow() + timedelta(minutes=15, seconds=11)):
        assert me(client, body["access_token"]).status_code == 401


@pytest.mark.parametrize("action", ["lock", "suspend"])
def test_refresh_is_refused_for_a_user_locked_or_suspended_since_login(client, tokens, api_headers, action):
    body, user = tokens
    headers, _ = api_headers("admin")
    if action == "lock":
        changed = client.post(f"/api/v3/users/{user.id}/lock", headers=headers, json={"minutes": 5})
    else:
        changed = client.patch(f"/api/v3/users/{user.id}", headers=headers, json={"status": "suspended"})
    assert changed.status_code == 200
    assert refresh(client, body["refresh_token"]).status_code == 401
    assert me(client, body["access_token"]).status_code == 401


def test_users_list_and_revoke_their_own_api_sessions(client, make_user):
    user = make_user("operator")
    first = api_login(client, user.email).json
    second = api_login(client, user.email).json
    listed = client.get("/api/v3/auth/sessions", headers=bearer(first["access_token"])).json["items"]
    assert len(listed) == 2 and sum(item["current"] for item in listed) == 1
    other = next(item["id"] for item in listed if not item["current"])
    assert client.delete(f"/api/v3/auth/sessions/{other}", headers=bearer(first["access_token"])).status_code == 204
    assert me(client, second["access_token"]).status_code == 401
    assert me(client, first["access_token"]).status_code == 200


def test_users_cannot_revoke_someone_elses_session(client, make_user):
    mine = api_login(client, make_user("operator").email).json
    theirs = api_login(client, make_user("operator").email).json
    their_id = client.get("/api/v3/auth/sessions", headers=bearer(theirs["access_token"])).json["items"][0]["id"]
    assert client.delete(f"/api/v3/auth/sessions/{their_id}", headers=bearer(mine["access_token"])).status_code == 404
    assert me(client, theirs["access_token"]).status_code == 200


def test_the_refresh_secret_is_stored_only_as_its_hash(tokens):
    body, user = tokens
    session_id, _, secret = body["refresh_token"].partition(".")
    row = database.session.get(UserSession, session_id)
    assert row.refresh_hash == digest(secret)
    stored = [str(value) for value in database.session.execute(select(UserSession.__table__)).one()]
    assert all(secret not in value for value in stored)
