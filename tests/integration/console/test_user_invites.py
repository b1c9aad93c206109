"""An admin invites a user by email; the user chooses a password through the mailed link."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.integration.auth_helpers import form_login
from webapp.audit.models import AuditEvent
from webapp.clock import frozen_at, utcnow
from webapp.events.models import Event
from webapp.extensions import db
from webapp.mail.models import OutboxMail
from webapp.users.models import User, UserInvite

PASSWORD = "chosen from the invitation"
LINK = re.compile(r"(\S+/invite/(\S+))")
SAME_ORIGIN = {"Sec-Fetch-Site": "same-origin"}


def invite_from_console(client, email="invited@example.com", role="operator"):
    token = csrf_token_from(client.get("/users").get_data(as_text=True))
    return client.post("/users", data={"csrf_token": token, "email": email, "name": "Invited One", "role": role,
                                       "password": ""}, headers=SAME_ORIGIN)


def mailed_link(email="invited@example.com") -> tuple[str, str]:
    mail = db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == email)
                              .order_by(OutboxMail.id.desc())).first()
    return LINK.search(mail.body).groups()


def set_password(client, token: str, password=PASSWORD, confirm=None):
    csrf = csrf_token_from(client.get(f"/invite/{token}").get_data(as_text=True))
    return client.post(f"/invite/{token}", data={"csrf_token": csrf, "password": password,
                                                "confirm": password if confirm is None else confirm},
                       headers=SAME_ORIGIN)


def audited(event: str) -> list[AuditEvent]:
    return db.session.scalars(select(AuditEvent).where(AuditEvent.event == event)).all()


def test_an_invited_user_chooses_a_password_once_and_signs_in(app, client, login_as, monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://flowdeck.example.com/ops")
    admin = login_as("admin")
    response = invite_from_console(client)
    user = db.session.scalar(select(User).where(User.email == "invited@example.com"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/users/{user.id}")
    assert (user.status, user.role, user.email_verified_at) == ("pending", "operator", None)
    link, token = mailed_link()
    assert link == f"https://flowdeck.example.com/ops/invite/{token}"
    stored = db.session.scalar(select(UserInvite.token_hash).where(UserInvite.user_id == user.id))
    assert stored == hashlib.sha256(token.encode()).hexdigest()  # only the hash is kept
    assert [(row.actor_id, row.target_id) for row in audited("user.invite")] == [(admin.id, str(user.id))]
    assert db.session.scalar(select(Event).where(Event.type == "user.invite")) is not None
    assert "Send a new invitation" in client.get(f"/users/{user.id}").get_data(as_text=True)

    client.post("/logout", data={"csrf_token": csrf_token_from(client.get("/").get_data(as_text=True))},
                headers=SAME_ORIGIN)
    assert form_login(client, "invited@example.com", PASSWORD).status_code != 302  # not before accepting
    page = client.get(f"/invite/{token}")
    assert page.status_code == 200 and "invited@example.com" in page.get_data(as_text=True)
    page = client.get(f"/invite/{token}")  # opening the link (a mail scanner) does not spend it
    assert page.status_code == 200

    accepted = set_password(client, token)
    assert accepted.status_code == 302 and accepted.headers["Location"].endswith("/login")
    db.session.expire_all()
    user = db.session.get(User, user.id)
    assert user.status == "active" and user.email_verified_at is not None
    assert [(row.actor_id, row.target_id) for row in audited("user.invite_accept")] == [(user.id, str(user.id))]
    assert form_login(client, "invited@example.com", PASSWORD).status_code == 302

    again = set_password(client, token, "another fine passphrase")
    assert again.status_code == 400 and "invalid, used or expired" in again.get_data(as_text=True)
    assert client.get(f"/invite/{token}").status_code == 400


def test_an_invitation_expires(app, client, login_as):
    login_as("admin")
    invite_from_console(client)
    _link, token = mailed_link()
    with frozen_at(utcnow() + timedelta(hours=app.config["EMAIL_TOKEN_HOURS"], seconds=1)):
        assert client.get(f"/invite/{token}").status_code == 400
        assert set_password(client, token).status_code == 400
    assert db.session.scalar(select(User.status).where(User.email == "invited@example.com")) == "pending"


def test_a_new_invitation_voids_the_earlier_link(client, login_as):
    admin = login_as("admin")
    invite_from_console(client)
    _link, first = mailed_link()
    user = db.session.scalar(select(User).where(User.email == "invited@example.com"))
    csrf = csrf_token_from(client.get(f"/users/{user.id}").get_data(as_text=True))
    resent = client.post(f"/users/{user.id}/invite", data={"csrf_token": csrf}, headers=SAME_ORIGIN)
    assert resent.status_code == 302
    _link, second = mailed_link()
    assert second != first
    assert [row.actor_id for row in audited("user.invite_resend")] == [admin.id]
    assert set_password(client, first).status_code == 400
    assert set_password(client, second).status_code == 302


def test_a_weak_or_mistyped_password_is_refused_without_spending_the_link(client, login_as):
    login_as("admin")
    invite_from_console(client)
    _link, token = mailed_link()
    short = set_password(client, token, "short")
    assert short.status_code == 422 and "at least 8 characters" in short.get_data(as_text=True)
    differ = set_password(client, token, PASSWORD, confirm=PASSWORD + "!")
    assert differ.status_code == 422 and "The two passwords differ." in differ.get_data(as_text=True)
    assert set_password(client, token).status_code == 302


def test_only_a_pending_invited_account_gets_a_new_invitation(client, login_as, make_user):
    login_as("admin")
    active = make_user("viewer")
    csrf = csrf_token_from(client.get(f"/users/{active.id}").get_data(as_text=True))
    assert "Send a new invitation" not in client.get(f"/users/{active.id}").get_data(as_text=True)
    refused = client.post(f"/users/{active.id}/invite", data={"csrf_token": csrf}, headers=SAME_ORIGIN,
                          follow_redirects=True)
    assert "has no invitation waiting" in refused.get_data(as_text=True)
    assert db.session.scalars(select(OutboxMail).where(OutboxMail.recipient == active.email)).all() == []


def test_the_api_invites_when_no_password_is_given_with_links_from_public_base_url(app, client, api_headers,
                                                                                   monkeypatch):
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://flowdeck.example.com")
    headers, _admin = api_headers("admin")
    response = client.post("/api/v3/users", json={"email": "api.invite@example.com", "role": "viewer"},
                           headers={**headers, "Host": "attacker.example", "X-Forwarded-Host": "attacker.example"})
    assert response.status_code == 201 and response.get_json()["user"]["status"] == "pending"
    link, token = mailed_link("api.invite@example.com")
    assert link == f"https://flowdeck.example.com/invite/{token}"
    assert set_password(client, token).status_code == 302
    taken = client.post("/api/v3/users", json={"email": "api.invite@example.com"}, headers=headers)
    assert taken.status_code == 409


@pytest.mark.parametrize(("status", "accepted"), [("active", True), ("suspended", False), ("inactive", False)])
def test_an_account_suspended_since_the_invitation_cannot_accept_it(client, login_as, status, accepted):
    from webapp.users import service

    admin = login_as("admin")
    invite_from_console(client)
    _link, token = mailed_link()
    user = db.session.scalar(select(User).where(User.email == "invited@example.com"))
    service.update_user(admin, user, status=status)
    assert client.get(f"/invite/{token}").status_code == (200 if accepted else 400)
    assert set_password(client, token).status_code == (302 if accepted else 400)
    db.session.expire_all()
    assert db.session.get(User, user.id).status == status
