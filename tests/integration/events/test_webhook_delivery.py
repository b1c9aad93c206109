"""Webhook deliveries against a receiver on 127.0.0.1: signatures, retries, redirects, SSRF."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from rq.registry import ScheduledJobRegistry

from tests.integration.events.receiver import receiver
from webapp.clock import frozen_at
from webapp.events.webhooks import delivery, fanout, service
from webapp.events.webhooks.models import WebhookAttempt, WebhookDelivery

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def verify_standard_webhook(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks 1.0, written from the spec rather than from our signer."""
    key = base64.b64decode(secret.split("_", 1)[1])
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.{body.decode()}".encode()
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    for candidate in headers["webhook-signature"].split(" "):
        version, _, signature = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(signature, expected):
            return True
    return False


@pytest.fixture
def endpoint(db, redis, allow_local, make_user):
    admin = make_user("admin")
    with receiver() as server:
        hook = service.create(admin, server.url + "/hooks", ["run.*"], "tests")
        yield server, hook, admin


def queue_event(db, event_type: str = "run.failed", event_id: int = 41) -> WebhookDelivery:
    message = {"id": str(event_id), "type": event_type, "occurred_at": "2026-12-01T09:00:00Z",
               "subject": "run:3", "data": {"run_id": 3}}
    (row,) = fanout.plan_deliveries([message])
    db.session.commit()
    return row


def test_signature_verifies_with_an_independent_implementation(db, endpoint):
    server, hook, _ = endpoint
    row = queue_event(db)
    with frozen_at(T0):
        assert delivery.attempt(row.id, 0) == "succeeded"
    (request,) = server.requests
    assert request["headers"]["webhook-id"] == "41"
    assert request["headers"]["webhook-timestamp"] == str(int(T0.timestamp()))
    assert verify_standard_webhook(hook.secret, request["headers"], request["body"])
    assert not verify_standard_webhook(service.signing.new_secret(), request["headers"], request["body"])
    assert json.loads(request["body"])["type"] == "run.failed"


def test_a_500_is_retried_on_the_schedule_through_scheduled_jobs(app, db, redis, endpoint):
    server, hook, _ = endpoint
    server.statuses.extend([500, 500])
    row = queue_event(db)
    registry = ScheduledJobRegistry("default", connection=redis)
    with frozen_at(T0):
        assert delivery.attempt(row.id, 0) == "retrying"
    db.session.expire_all()
    assert row.next_attempt_at == T0 + timedelta(seconds=5)
    (job_id,) = registry.get_job_ids()
    assert registry.get_scheduled_time(job_id) == T0 + timedelta(seconds=5)
    assert delivery.attempt(row.id, 0) == "skipped", "a second copy of a job must not send again"
    with frozen_at(T0 + timedelta(seconds=5)):
        assert delivery.attempt(row.id, 1) == "retrying"
    db.session.expire_all()
    assert row.next_attempt_at == T0 + timedelta(seconds=5 + 300)
    with frozen_at(T0 + timedelta(seconds=305)):
        assert delivery.attempt(row.id, 2) == "succeeded"
    attempts = db.session.query(WebhookAttempt).filter_by(delivery_id=row.id).order_by(WebhookAttempt.id).all()
    assert [attempt.response_status for attempt in attempts] == [500, 500, 200]
    assert attempts[0].response_body == "answer 500"
    assert attempts[0].request_headers["webhook-id"] == "41"
    assert len(server.requests) == 3
    db.session.refresh(hook)
    assert hook.consecutive_failures == 0


def test_a_redirect_is_not_followed(db, endpoint):
    server, _, _ = endpoint
    server.statuses.append(302)
    row = queue_event(db)
    assert delivery.attempt(row.id, 0) == "retrying"
    assert [request["path"] for request in server.requests] == ["/hooks"]
    attempt = db.session.query(WebhookAttempt).filter_by(delivery_id=row.id).one()
    assert attempt.response_status == 302 and "redirects are not followed" in attempt.error


def test_a_private_address_not_allowed_is_refused_before_connecting(app, db, endpoint):
    server, hook, admin = endpoint
    app.config["WEBHOOK_ALLOWED_NETWORKS"] = ()
    row = queue_event(db)
    assert delivery.attempt(row.id, 0) == "retrying"
    assert server.connections == 0
    attempt = db.session.query(WebhookAttempt).filter_by(delivery_id=row.id).one()
    assert "private or reserved address" in attempt.error and attempt.response_status is None


def test_a_host_off_the_allow_list_is_refused_when_saving(db, endpoint):
    from webapp.exceptions import InvalidInput

    _, _, admin = endpoint
    with pytest.raises(InvalidInput, match="not in WEBHOOK_ALLOWED_HOSTS"):
        service.create(admin, "http://169.254.169.254/latest/meta-data", ["*"])
    with pytest.raises(InvalidInput, match="http:// or https://"):
        service.create(admin, "file:///etc/passwd", ["*"])


def test_redeliver_sends_the_same_message_again(db, endpoint):
    server, hook, admin = endpoint
    server.statuses.append(500)
    row = queue_event(db)
    assert delivery.attempt(row.id, 0) == "retrying"
    (copy,) = service.redeliver(admin, [row.id])
    assert delivery.attempt(copy.id, 0) == "succeeded"
    first, second = server.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == "41"
    assert first["body"] == second["body"]


def test_rotation_signs_with_both_secrets_during_the_overlap(db, endpoint):
    server, hook, admin = endpoint
    old_secret = hook.secret
    rotated = service.rotate_secret(admin, hook.id)
    assert rotated.secret != old_secret
    row = queue_event(db)
    assert delivery.attempt(row.id, 0) == "succeeded"
    (request,) = server.requests
    assert len(request["headers"]["webhook-signature"].split(" ")) == 2
    assert verify_standard_webhook(old_secret, request["headers"], request["body"])
    assert verify_standard_webhook(rotated.secret, request["headers"], request["body"])
    later = queue_event(db, event_id=42)
    with frozen_at(datetime.now(UTC) + service.ROTATION_OVERLAP + timedelta(minutes=1)):
        assert delivery.attempt(later.id, 0) == "succeeded"
    assert len(server.requests[1]["headers"]["webhook-signature"].split(" ")) == 1
    assert not verify_standard_webhook(old_secret, server.requests[1]["headers"], server.requests[1]["body"])


def test_an_endpoint_failing_for_days_is_disabled_with_an_alert(app, db, endpoint, make_user):
    from webapp.audit.models import AuditEvent
    from webapp.events.models import Event
    from webapp.mail.models import OutboxMail

    server, hook, creator = endpoint
    other_admin, viewer = make_user("admin"), make_user("viewer")
    make_user("admin", status="suspended")
    creator.role = "operator"  # no longer an admin: mailed as the webhook's creator
    db.session.commit()
    app.config.update(WEBHOOK_DISABLE_FAILURES=3)
    try:
        server.statuses.extend([500] * 3)
        for index, days in enumerate((0, 2, 6)):
            row = queue_event(db, event_id=100 + index)
            with frozen_at(T0 + timedelta(days=days)):
                delivery.attempt(row.id, 0)
    finally:
        app.config.update(WEBHOOK_DISABLE_FAILURES=15)
    db.session.refresh(hook)
    assert hook.active is False and "3 failed attempts" in hook.disabled_reason
    assert db.session.query(AuditEvent).filter_by(event="webhook.disabled").count() == 1
    assert db.session.query(Event).filter_by(type="webhook.disabled").count() == 1
    mails = db.session.query(OutboxMail).filter(OutboxMail.subject.contains("disabled")).all()
    assert sorted(mail.recipient for mail in mails) == sorted([creator.email, other_admin.email])
    assert viewer.email not in {mail.recipient for mail in mails}
    assert all(hook.url in mail.body and f"/webhooks/{hook.id}" in mail.body for mail in mails)
    assert fanout.plan_deliveries([{"id": "999", "type": "run.failed"}]) == []


def test_a_delivery_of_a_deleted_webhook_sends_nothing(db, endpoint):
    server, hook, admin = endpoint
    row = queue_event(db)
    row_id = row.id
    service.delete(admin, hook.id)
    assert delivery.attempt(row_id, 0) == "skipped"
    assert server.connections == 0
