"""``audit.record`` writes in the caller's transaction and the trail is append-only (docs/security.md §25-27)."""
import pytest
from sqlalchemy import func, select

from webapp.audit.models import AuditEvent, AuditIsAppendOnly
from webapp.audit.service import record


def test_record_fills_request_context_and_commits_with_the_caller(app, db, make_user):
    user = make_user("operator")
    environ = {"REMOTE_ADDR": "10.0.0.7", "HTTP_USER_AGENT": "agent\r\nforged: yes",
               "HTTP_X_REQUEST_ID": "req-1"}
    with app.test_request_context("/x", environ_base=environ):
        app.preprocess_request()
        event = record("run.trigger", actor=user, target_type="run", target_id=42,
                       details={"password": "hunter22", "note": "a\nb"})
        db.session.commit()
    stored = db.session.get(AuditEvent, event.id)
    assert (stored.event, stored.actor_id) == ("run.trigger", user.id)
    assert (stored.target_type, stored.target_id) == ("run", "42")
    assert (stored.ip, stored.request_id, stored.outcome) == ("10.0.0.7", "req-1", "success")
    assert "\r" not in stored.user_agent and "\n" not in stored.user_agent
    assert stored.details == {"note": "a\\nb"}


def test_record_rolls_back_with_the_callers_transaction(db):
    record("run.cancel", target_type="run", target_id=1)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_audit_rows_cannot_be_updated_or_deleted(db):
    event = record("auth.login", outcome="failure")
    db.session.commit()
    event.outcome = "success"
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event.id).outcome == "failure"
