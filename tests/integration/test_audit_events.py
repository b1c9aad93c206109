"""Each account action writes its audit event, and nothing secret reaches logs or audit (docs/security.md §25-27)."""
import logging
import re
from datetime import timedelta

from tests.conftest import TEST_PASSWORD
from tests.integration.auth_helpers import api_login, audit_events, bearer
from webapp.api.pagination import encode_cursor
from webapp.clock import utcnow
from webapp.extensions import db as database
from webapp.mail.models import OutboxMail
from webapp.users.models import User


def one(event: str):
    [row] = audit_events(event)
    return row


def test_login_success_and_failure_are_audited_with_ip_agent_and_request_id(client, make_user):
    user = make_user("operator")
    api_login(client, user.email, "wrong password!", headers={"User-Agent": "probe/1", "X-Request-ID": "r-1"})
    api_login(client, user.email)
    failure, success = audit_events("auth.login")
    assert (failure.outcome, failure.target_id, failure.ip, failure.user_agent, failure.request_id) == (
        "failure", str(user.id), "127.0.0.1", "probe/1", "r-1")
    assert (success.outcome, success.actor_id) == ("success", user.id)
    assert success.at <= utcnow()


def test_logout_refresh_reuse_and_session_revoke_are_audited(client, make_user):
    user = make_user("operator")
    body = api_login(client, user.email).json
    second = api_login(client, user.email).json
    renewed = client.post("/api/v3/auth/refresh", json={"refresh_token": body["refresh_token"]}).json
    assert one("auth.refresh").actor_id == user.id
    client.post("/api/v3/auth/refresh", json={"refresh_token": body["refresh_token"]})
    assert one("auth.token_reuse").outcome == "denied"
    sessions = client.get("/api/v3/auth/sessions", headers=bearer(second["access_token"])).json["items"]
    assert sessions and renewed
    client.delete(f"/api/v3/auth/sessions/{sessions[0]['id']}", headers=bearer(second["access_token"]))
    assert one("auth.session_revoke").actor_id == user.id
    third = api_login(client, user.email).json
    client.post("/api/v3/auth/logout", headers=bearer(third["access_token"]))
    assert one("auth.logout").actor_id == user.id


def test_register_verify_role_and_status_changes_are_audited(client, app, monkeypatch, api_headers):
    monkeypatch.setitem(app.config, "REGISTRATION_MODE", "verify")
    client.post("/api/v3/auth/register", json={"email": "reg@example.com", "password": "a fine passphrase"})
    user_id = database.session.query(User).filter_by(email="reg@example.com").one().id
    assert one("auth.register").target_id == str(user_id)
    token = re.search(r"verify-email: (\S+)", database.session.query(OutboxMail).one().body).group(1)
    client.post("/api/v3/auth/verify-email", json={"token": token})
    assert one("auth.verify").actor_id == user_id
    headers, admin = api_headers("admin")
    client.patch(f"/api/v3/users/{user_id}", headers=headers, json={"role": "operator", "status": "suspended"})
    role, status = one("user.role_change"), one("user.status_change")
    assert (role.actor_id, role.details) == (admin.id, {"from": "viewer", "to": "operator"})
    assert (status.actor_id, status.details) == (admin.id, {"from": "active", "to": "suspended"})


def test_admin_lock_unlock_and_revoke_are_audited(client, api_headers, make_user):
    headers, admin = api_headers("admin")
    user = make_user("operator")
    client.post(f"/api/v3/users/{user.id}/lock", headers=headers, json={"minutes": 15, "reason": "travel"})
    client.post(f"/api/v3/users/{user.id}/unlock", headers=headers)
    client.post(f"/api/v3/users/{user.id}/revoke-sessions", headers=headers)
    for event in ("auth.locked", "auth.unlocked", "auth.session_revoke"):
        row = one(event)
        assert (row.actor_id, row.target_type, row.target_id) == (admin.id, "user", str(user.id)), event
    assert one("auth.locked").details["reason"] == "travel"


def test_audit_api_filters_and_paginates_newest_first(client, api_headers, make_user):
    headers, admin = api_headers("admin")
    user = make_user("operator")
    for _ in range(3):
        api_login(client, user.email, "wrong password!")
    api_login(client, user.email)
    page = client.get("/api/v3/audit?event=auth.login&limit=2", headers=headers).json
    assert [item["outcome"] for item in page["items"]] == ["success", "failure"]
    rest = client.get(f"/api/v3/audit?event=auth.login&limit=2&cursor={page['next_cursor']}", headers=headers).json
    assert [item["outcome"] for item in rest["items"]] == ["failure", "failure"] and rest["next_cursor"] is None
    assert len(client.get(f"/api/v3/audit?actor={user.email}", headers=headers).json["items"]) == 1
    assert len(client.get(f"/api/v3/audit?target=user:{user.id}", headers=headers).json["items"]) == 4
    since = (utcnow() + timedelta(minutes=1)).isoformat()
    assert client.get("/api/v3/audit", headers=headers, query_string={"since": since}).json["items"] == []
    assert client.get("/api/v3/audit?since=yesterday", headers=headers).status_code == 422
    assert client.get("/api/v3/audit?cursor=bad", headers=headers).status_code == 400
    for key in (["2026-01-01T00:00:00+00:00", 10**30], ["2026-01-01T00:00:00", 1], ["nope", 1], [5, "x"]):
        assert client.get(f"/api/v3/audit?cursor={encode_cursor(key)}", headers=headers).status_code == 400, key
    assert client.get(f"/api/v3/audit?actor={'9' * 300}", headers=headers).json["items"] == []


def test_audit_page_lists_and_filters_events(client, login_as, make_user):
    user = make_user("operator")
    api_login(client, user.email, "wrong password!")
    login_as("admin")
    page = client.get("/audit?event=auth.login").get_data(as_text=True)
    assert page.count('data-testid="audit-row"') == 2 and "failure" in page
    assert client.get("/audit?since_local=garbage").status_code == 400
    assert client.get(f"/audit?cursor={encode_cursor(['2026-01-01T00:00:00', 1])}").status_code == 400


def test_captured_logs_and_audit_rows_never_contain_passwords_or_tokens(client, make_user, caplog):
    caplog.set_level(logging.DEBUG)
    user = make_user("operator")
    api_login(client, user.email, "wrong password!")
    body = api_login(client, user.email).json
    renewed = client.post("/api/v3/auth/refresh", json={"refresh_token": body["refresh_token"]}).json
    client.post("/api/v3/auth/refresh", json={"refresh_token": body["refresh_token"]})
    client.post("/api/v3/auth/logout", headers=bearer(renewed["access_token"]))
    secrets = [TEST_PASSWORD, "wrong password!", body["access_token"], body["refresh_token"],
               renewed["refresh_token"], body["refresh_token"].split(".")[1]]
    stored = " ".join(repr((e.details, e.target_id, e.user_agent)) for e in audit_events())
    for secret in secrets:
        assert secret not in caplog.text
        assert secret not in stored


def test_user_changes_are_also_published_as_domain_events(client, api_headers, make_user):
    from webapp.events.models import Event

    headers, _ = api_headers("admin")
    user = make_user("operator")
    for _ in range(5):
        api_login(client, user.email, "wrong password!")
    client.post(f"/api/v3/users/{user.id}/unlock", headers=headers)
    client.patch(f"/api/v3/users/{user.id}", headers=headers, json={"role": "viewer"})
    events = [(e.type, e.payload["user_id"]) for e in database.session.query(Event).order_by(Event.id)]
    assert events == [("auth.locked", user.id), ("auth.unlocked", user.id), ("user.role_change", user.id)]
