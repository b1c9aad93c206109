"""`flask users unlock|activate|set-role`, run as real subprocesses against the test database."""
from datetime import timedelta

from tests.integration.auth_helpers import audit_events
from webapp.clock import utcnow
from webapp.extensions import db as database
from webapp.users.models import User


def reload(user: User) -> User:
    database.session.expire_all()
    return database.session.get(User, user.id)


def test_unlock_clears_lock_and_counter_and_is_audited(flask_cli, make_user):
    user = make_user("operator", email="Locked@Example.com")
    user.failed_login_count, user.locked_until = 5, utcnow() + timedelta(minutes=30)
    database.session.commit()
    result = flask_cli("users", "unlock", "LOCKED@example.com")
    assert result.returncode == 0, result.stderr
    assert (reload(user).failed_login_count, reload(user).locked_until) == (0, None)
    [event] = audit_events("auth.unlocked")
    assert event.actor_id is None and event.target_id == str(user.id)


def test_activate_makes_a_pending_user_active(flask_cli, make_user):
    user = make_user("viewer", status="pending")
    assert flask_cli("users", "activate", user.email).returncode == 0
    assert reload(user).status == "active"
    assert audit_events("user.status_change")[0].details == {"from": "pending", "to": "active"}


def test_set_role_changes_the_role(flask_cli, make_user):
    user = make_user("viewer")
    assert flask_cli("users", "set-role", user.email, "operator").returncode == 0
    assert reload(user).role == "operator"


def test_unknown_email_and_bad_role_fail_with_a_clear_message(flask_cli, make_user):
    missing = flask_cli("users", "unlock", "nobody@example.com")
    assert missing.returncode == 1 and "no user with the email nobody@example.com" in missing.stderr
    assert "Traceback" not in missing.stderr
    user = make_user("viewer")
    bad_role = flask_cli("users", "set-role", user.email, "root")
    assert bad_role.returncode == 2 and "root" in bad_role.stderr
