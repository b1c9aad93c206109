"""Lockout: 5 failures lock for 30 minutes, counted atomically before bcrypt (docs/security.md §6-9)."""
from datetime import timedelta

import pytest

from tests.conftest import TEST_PASSWORD
from tests.integration.auth_helpers import api_login, audit_events, comparable, form_login, in_parallel
from webapp.auth import service as auth_service
from webapp.auth.models import UserSession
from webapp.auth.views import GENERIC_FAILURE, VERIFY_FIRST
from webapp.clock import frozen_at, utcnow
from webapp.extensions import db as database
from webapp.users.models import User


def reload(user: User) -> User:
    database.session.expire_all()
    return database.session.get(User, user.id)


def fail(client, user, times: int = 1) -> None:
    for _ in range(times):
        assert api_login(client, user.email, "wrong password!").status_code == 401


@pytest.fixture
def count_verifies(monkeypatch):
    """Counts bcrypt verifies against each real password hash (the dummy hash is not counted)."""
    calls: list[str] = []
    real = auth_service.verify_password

    def counting(password, password_hash):
        calls.append(password_hash)
        return real(password, password_hash)

    monkeypatch.setattr(auth_service, "verify_password", counting)
    return calls


def test_twenty_parallel_wrong_passwords_verify_at_most_five_times_and_lock_once(app, db, make_user, count_verifies):
    user = make_user("operator")
    email = user.email
    statuses = in_parallel(app, 20, lambda c: api_login(c, email, "wrong password!").status_code)
    assert statuses == [401] * 20
    assert count_verifies.count(user.password_hash) <= 5
    assert reload(user).locked_at(utcnow())
    assert len(audit_events("auth.locked")) == 1


def test_fifth_failure_locks_for_thirty_minutes(client, make_user):
    user = make_user("operator")
    fail(client, user, 4)
    assert reload(user).locked_until is None
    fail(client, user)
    locked = reload(user)
    assert locked.failed_login_count == 5
    assert abs(locked.locked_until - (utcnow() + timedelta(minutes=30))) < timedelta(seconds=10)


def test_correct_password_on_locked_account_is_indistinguishable_and_creates_no_session(client, make_user):
    user = make_user("operator")
    fail(client, user, 5)
    wrong = api_login(client, user.email, "wrong password!")
    right = api_login(client, user.email, TEST_PASSWORD)
    assert comparable(right) == comparable(wrong)
    assert right.status_code == 401 and right.json["error"]["code"] == "invalid_credentials"
    assert form_login(client, user.email, TEST_PASSWORD).status_code == 401
    assert database.session.query(UserSession).count() == 0


def test_lock_holds_at_29_59_and_ends_at_30_00(client, make_user):
    user = make_user("operator")
    start = utcnow().replace(microsecond=0)
    with frozen_at(start):
        fail(client, user, 5)
    with frozen_at(start + timedelta(minutes=29, seconds=59)):
        assert api_login(client, user.email).status_code == 401
    with frozen_at(start + timedelta(minutes=30)):
        assert api_login(client, user.email).status_code == 200


def test_sixth_failed_login_keeps_account_locked_without_extending_it(client, make_user):
    user = make_user("operator")
    fail(client, user, 5)
    until = reload(user).locked_until
    with frozen_at(utcnow() + timedelta(minutes=10)):
        fail(client, user, 3)
    locked = reload(user)
    assert locked.locked_until == until and locked.failed_login_count == 5


def test_after_a_lock_expires_the_count_starts_again(client, make_user):
    user = make_user("operator")
    fail(client, user, 5)
    with frozen_at(utcnow() + timedelta(minutes=31)):
        fail(client, user)
        assert reload(user).failed_login_count == 1
        assert not reload(user).locked_at(utcnow())


def test_success_resets_the_failure_counter(client, make_user):
    user = make_user("operator")
    fail(client, user, 4)
    assert api_login(client, user.email).status_code == 200
    assert reload(user).failed_login_count == 0
    fail(client, user, 4)
    assert reload(user).locked_until is None


def test_failure_counter_and_its_audit_row_commit_despite_the_401(client, make_user):
    user = make_user("operator")
    fail(client, user, 2)
    assert reload(user).failed_login_count == 2
    failures = audit_events("auth.login")
    assert [(e.outcome, e.details["reason"]) for e in failures] == [("failure", "wrong_password")] * 2


def test_admin_unlock_resets_counter_and_lock_and_is_audited(client, make_user, api_headers):
    headers, admin = api_headers("admin")
    user = make_user("operator")
    fail(client, user, 5)
    response = client.post(f"/api/v3/users/{user.id}/unlock", headers=headers)
    assert response.status_code == 200 and response.json["user"]["locked_until"] is None
    unlocked = reload(user)
    assert (unlocked.failed_login_count, unlocked.locked_until) == (0, None)
    [event] = audit_events("auth.unlocked")
    assert (event.actor_id, event.target_id) == (admin.id, str(user.id))
    assert api_login(client, user.email).status_code == 200


@pytest.mark.parametrize("status", ["inactive", "suspended"])
def test_inactive_and_suspended_users_get_the_generic_401_with_the_right_password(client, make_user, status):
    user = make_user("operator", status=status)
    unknown = api_login(client, "nobody@example.com", TEST_PASSWORD)
    response = api_login(client, user.email, TEST_PASSWORD)
    assert comparable(response) == comparable(unknown)


@pytest.mark.parametrize("status", ["inactive", "suspended"])
def test_the_login_page_gives_inactive_and_suspended_users_the_generic_message_and_no_session(
        client, make_user, status):
    user = make_user("operator", status=status)
    response = form_login(client, user.email, TEST_PASSWORD)
    page = response.get_data(as_text=True)
    assert response.status_code == 401 and GENERIC_FAILURE in page and VERIFY_FIRST not in page
    assert status not in page.lower()
    assert database.session.query(UserSession).count() == 0
    assert client.get("/account").status_code == 302
