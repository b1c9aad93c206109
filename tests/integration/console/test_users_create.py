"""Admins create users from the console with the API's checks, audit and event."""
from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_token_from

PASSWORD = "a long enough passphrase"


def post_create(client, **fields):
    token = csrf_token_from(client.get("/users").get_data(as_text=True))
    return client.post("/users", data={"csrf_token": token, **fields}, headers={"Sec-Fetch-Site": "same-origin"})


def test_an_admin_creates_an_active_user_who_is_audited_and_published(client, login_as):
    from webapp.audit.models import AuditEvent
    from webapp.events.models import Event
    from webapp.extensions import db
    from webapp.users.models import User

    admin = login_as("admin")
    response = post_create(client, email="New.Person@Example.com", name="New Person", role="operator",
                           password=PASSWORD)
    user = db.session.scalar(select(User).where(User.email == "new.person@example.com"))
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/users/{user.id}")
    assert (user.role, user.status, user.name) == ("operator", "active", "New Person")
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "user.create"))
    assert audit.actor_id == admin.id and audit.target_id == str(user.id)
    assert db.session.scalar(select(Event).where(Event.type == "user.create")) is not None


def test_a_taken_email_is_refused_next_to_the_field(client, login_as, make_user):
    taken = make_user("viewer")
    login_as("admin")
    response = post_create(client, email=taken.email, name="", role="viewer", password=PASSWORD)
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'data-testid="create-error-email"' in html and "already exists" in html
    assert '<details class="add-user" id="add-user" open>' in html


def test_a_short_password_and_an_unknown_role_come_back_per_field_keeping_the_other_values(client, login_as):
    from webapp.extensions import db
    from webapp.users.models import User

    login_as("admin")
    response = post_create(client, email="someone@example.com", name="Some One", role="root", password="short")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="create-error-password"' in html and 'data-testid="create-error-role"' in html
    assert 'value="someone@example.com"' in html and 'value="short"' not in html
    assert db.session.scalar(select(User).where(User.email == "someone@example.com")) is None


def test_an_operator_cannot_create_users(client, login_as):
    login_as("operator")
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    response = client.post("/users", data={"csrf_token": token, "email": "x@example.com", "password": PASSWORD},
                           headers={"Sec-Fetch-Site": "same-origin"})
    assert response.status_code == 403
