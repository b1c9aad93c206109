"""Registration modes and email verification through the outbox (docs/security.md §2, 10)."""
import re
from datetime import timedelta

import pytest

from tests.conftest import csrf_token_from
from tests.integration.auth_helpers import api_login
from webapp.auth.models import EmailToken
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db as database
from webapp.mail.models import OutboxMail
from webapp.users.models import User

PASSWORD = "a long enough passphrase"
TOKEN = re.compile(r"verify-email: (\S+)")


@pytest.fixture
def mode(app, monkeypatch):
    def set_mode(value: str) -> None:
        monkeypatch.setitem(app.config, "REGISTRATION_MODE", value)
    return set_mode


def register(client, email="new.user@example.com", password=PASSWORD):
    return client.post("/api/v3/auth/register", json={"email": email, "password": password, "name": "New"})


def mailed_token(email="new.user@example.com") -> str:
    mail = database.session.query(OutboxMail).filter_by(recipient=email).order_by(OutboxMail.id.desc()).first()
    return TOKEN.search(mail.body).group(1)


def verify(client, token):
    return client.post("/api/v3/auth/verify-email", json={"token": token})


def test_verify_mode_creates_a_pending_user_who_activates_with_the_mailed_token(client, mode):
    mode("verify")
    response = register(client)
    assert response.status_code == 202 and "user" not in response.json
    assert database.session.query(User).filter_by(email="new.user@example.com").one().status == "pending"
    assert api_login(client, "new.user@example.com", PASSWORD).status_code == 403
    assert verify(client, mailed_token()).status_code == 200
    assert api_login(client, "new.user@example.com", PASSWORD).status_code == 200


def test_open_mode_creates_an_active_viewer(client, mode):
    mode("open")
    user = register(client).json["user"]
    assert (user["status"], user["role"]) == ("active", "viewer")
    assert database.session.query(OutboxMail).count() == 0


def test_closed_mode_refuses_registration_with_403(client, mode):
    mode("closed")
    response = register(client)
    assert response.status_code == 403 and response.json["error"]["code"] == "registration_closed"
    assert client.get("/register").status_code == 404


def test_verification_token_is_single_use(client, mode):
    mode("verify")
    register(client)
    token = mailed_token()
    assert verify(client, token).status_code == 200
    assert verify(client, token).status_code == 400


def test_verification_token_expires(client, mode, app):
    mode("verify")
    register(client)
    token = mailed_token()
    with frozen_at(utcnow() + timedelta(hours=app.config["EMAIL_TOKEN_HOURS"], seconds=1)):
        assert verify(client, token).status_code == 400


def test_verification_token_is_bound_to_the_address_it_was_sent_to(client, mode):
    mode("verify")
    register(client)
    token = mailed_token()
    user = database.session.query(User).filter_by(email="new.user@example.com").one()
    user.email = "changed@example.com"
    database.session.commit()
    assert verify(client, token).status_code == 400


def test_tokens_are_stored_hashed(client, mode):
    mode("verify")
    register(client)
    token = mailed_token()
    assert database.session.query(EmailToken).filter_by(token_hash=token).count() == 0


@pytest.mark.parametrize("password", ["short", "password123"])
def test_short_and_common_passwords_are_refused_with_422(client, mode, password):
    mode("open")
    response = register(client, password=password)
    assert response.status_code == 422 and "password" in response.json["error"]["details"]["fields"]


def test_duplicate_email_is_a_409(client, mode, make_user):
    mode("open")
    make_user("viewer", email="taken@example.com")
    assert register(client, email="TAKEN@example.com").status_code == 409


def test_in_verify_mode_an_existing_email_gets_the_same_202_and_its_owner_gets_a_mail(client, mode, make_user):
    mode("verify")
    owner = make_user("viewer", email="taken@example.com")
    new = register(client)
    taken = register(client, email="TAKEN@example.com")
    assert (taken.status_code, taken.json) == (new.status_code, new.json) == (202, new.json)
    [mail] = database.session.query(OutboxMail).filter_by(recipient="taken@example.com").all()
    assert "already has one" in mail.body and "http://127.0.0.1:5000/login" in mail.body
    database.session.refresh(owner)
    assert owner.status == "active" and database.session.query(User).count() == 2


def test_registering_again_while_still_pending_mails_a_fresh_link(client, mode):
    mode("verify")
    register(client)
    assert register(client).status_code == 202
    assert database.session.query(EmailToken).count() == 2
    assert verify(client, mailed_token()).status_code == 200


@pytest.mark.parametrize("path", ["/api/v3/auth/register", "/api/v3/auth/resend-verification"])
def test_mailed_links_use_public_base_url_not_the_host_header(client, mode, app, monkeypatch, path):
    mode("verify")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://flowdeck.example.com")
    if path.endswith("resend-verification"):
        register(client)
    body = {"email": "new.user@example.com", "password": PASSWORD}
    response = client.post(path, json=body if path.endswith("register") else {"email": body["email"]},
                           headers={"Host": "attacker.example", "X-Forwarded-Host": "attacker.example"})
    assert response.status_code == 202
    mail = database.session.query(OutboxMail).order_by(OutboxMail.id.desc()).first()
    assert "attacker.example" not in mail.body
    assert f"https://flowdeck.example.com/verify-email/{mailed_token()}" in mail.body


def test_resend_sends_a_new_link_only_to_pending_users(client, mode, make_user):
    mode("verify")
    register(client)
    make_user("viewer", email="active@example.com")
    for email in ("new.user@example.com", "active@example.com", "nobody@example.com"):
        assert client.post("/api/v3/auth/resend-verification", json={"email": email}).status_code == 202
    assert database.session.query(OutboxMail).filter_by(recipient="new.user@example.com").count() == 2
    assert database.session.query(OutboxMail).count() == 2


def test_register_and_verify_pages_work_end_to_end(client, mode):
    mode("verify")
    token = csrf_token_from(client.get("/register").get_data(as_text=True))
    response = client.post("/register", data={"csrf_token": token, "email": "page.user@example.com",
                                              "password": PASSWORD, "name": "Page"})
    assert response.status_code == 302
    link = re.search(r"(/verify-email/\S+)", database.session.query(OutboxMail).one().body).group(1)
    confirm = client.get(link)
    assert confirm.status_code == 200  # opening the link alone spends nothing
    assert database.session.query(User).filter_by(email="page.user@example.com").one().status == "pending"
    assert client.post(link, data={"csrf_token": csrf_token_from(confirm.get_data(as_text=True))}).status_code == 302
    assert database.session.query(User).filter_by(email="page.user@example.com").one().status == "active"


def test_admins_read_the_outbox_in_the_console(client, mode, login_as):
    mode("verify")
    register(client)
    login_as("admin")
    page = client.get("/mail").get_data(as_text=True)
    assert "Verify your Flowdeck email address" in page and "new.user@example.com" in page
