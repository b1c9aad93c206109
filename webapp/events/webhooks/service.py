"""Admin actions on webhooks: each audited and published as an event, in one transaction.

The secret is returned only by ``create`` and ``rotate_secret``. Rotation keeps the old
secret signing alongside the new one for ``ROTATION_OVERLAP`` (24 h), so receivers can switch.
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp.audit.service import record
from webapp.clock import utcnow
from webapp.events.messages import is_pattern
from webapp.events.service import publish
from webapp.events.webhooks import signing, targets
from webapp.events.webhooks.fanout import enqueue_deliveries
from webapp.events.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from webapp.exceptions import Conflict, InvalidInput, NotFound
from webapp.extensions import db
from webapp.formatting import iso

ROTATION_OVERLAP = timedelta(hours=24)
MAX_PATTERNS = 50


def check_patterns(patterns: list[str]) -> list[str]:
    bad = [pattern for pattern in patterns if not is_pattern(pattern)]
    if bad or not patterns or len(patterns) > MAX_PATTERNS:
        raise InvalidInput(
            "events must list 1 to 50 patterns such as run.failed, run.* or *.",
            details={"fields": {"events": f"not a pattern: {', '.join(bad)}" if bad else "1 to 50 patterns"}})
    return sorted(set(patterns))


def check_url(url: str) -> str:
    targets.check_url(url, current_app.config["WEBHOOK_ALLOWED_HOSTS"])
    return url


def get_webhook(webhook_id: int) -> Webhook:
    hook = db.session.get(Webhook, webhook_id)
    if hook is None:
        raise NotFound(f"There is no webhook {webhook_id}.")
    return hook


def list_webhooks() -> list[Webhook]:
    return list(db.session.scalars(select(Webhook).order_by(Webhook.id)))


def to_dict(hook: Webhook, secret: bool = False) -> dict[str, Any]:
    body = {"id": hook.id, "url": hook.url, "events": hook.events, "description": hook.description,
            "active": hook.active, "disabled_reason": hook.disabled_reason,
            "consecutive_failures": hook.consecutive_failures, "created_by": hook.created_by,
            "created_at": iso(hook.created_at), "updated_at": iso(hook.updated_at)}
    if secret:
        body["secret"] = hook.secret
    return body


def announce(action: str, actor, hook: Webhook, **details: Any) -> None:
    record(f"webhook.{action}", actor=actor, target_type="webhook", target_id=hook.id,
           details={"url": hook.url, **details})
    publish(f"webhook.{action}", {"webhook_id": hook.id, "url": hook.url, "events": hook.events, **details})


def create(actor, url: str, events: list[str], description: str = "") -> Webhook:
    hook = Webhook(url=check_url(url), events=check_patterns(events), description=description,
                   secret=signing.new_secret(), created_by=getattr(actor, "id", actor))
    db.session.add(hook)
    db.session.flush()
    announce("created", actor, hook)
    db.session.commit()
    return hook


def update(actor, webhook_id: int, changes: dict[str, Any]) -> Webhook:
    hook = get_webhook(webhook_id)
    if "url" in changes:
        hook.url = check_url(changes["url"])
    if "events" in changes:
        hook.events = check_patterns(changes["events"])
    if "description" in changes:
        hook.description = changes["description"]
    if "active" in changes:
        hook.active = changes["active"]
        if hook.active:  # re-enabling starts a fresh failure count
            hook.disabled_reason, hook.consecutive_failures, hook.failing_since = None, 0, None
    announce("updated", actor, hook, changed=sorted(changes))
    db.session.commit()
    return hook


def delete(actor, webhook_id: int) -> None:
    hook = get_webhook(webhook_id)
    announce("deleted", actor, hook)
    db.session.delete(hook)
    db.session.commit()


def rotate_secret(actor, webhook_id: int) -> Webhook:
    hook = get_webhook(webhook_id)
    hook.previous_secret, hook.secret = hook.secret, signing.new_secret()
    hook.previous_secret_expires_at = utcnow() + ROTATION_OVERLAP
    announce("secret_rotated", actor, hook)
    db.session.commit()
    return hook


def ping(actor, webhook_id: int) -> WebhookDelivery:
    """A ``webhook.ping`` message, sent once (no retries), to test an endpoint."""
    hook = get_webhook(webhook_id)
    now = utcnow()
    delivery = WebhookDelivery(webhook_id=hook.id, message_id="", event_type="webhook.ping", body="",
                               status="pending", next_attempt_at=now)
    db.session.add(delivery)
    db.session.flush()
    delivery.message_id = f"ping_{delivery.id}"
    delivery.body = json.dumps({"id": delivery.message_id, "type": "webhook.ping",
                                "occurred_at": iso(now), "subject": f"webhook:{hook.id}",
                                "data": {"webhook_id": hook.id}}, separators=(",", ":"))
    record("webhook.pinged", actor=actor, target_type="webhook", target_id=hook.id, details={"url": hook.url})
    publish("webhook.pinged", {"webhook_id": hook.id, "url": hook.url, "delivery_id": delivery.id})
    db.session.commit()
    enqueue_deliveries([delivery.id])
    return delivery


def redeliver(actor, delivery_ids: list[int], webhook_id: int | None = None) -> list[WebhookDelivery]:
    """A new delivery of each message, with the same ``webhook-id`` so receivers can de-duplicate.
    With ``webhook_id``, only that endpoint's deliveries count as found."""
    query = select(WebhookDelivery).where(WebhookDelivery.id.in_(delivery_ids))
    if webhook_id is not None:
        query = query.where(WebhookDelivery.webhook_id == webhook_id)
    originals = list(db.session.scalars(query))
    if len(originals) != len(set(delivery_ids)):
        missing = sorted(set(delivery_ids) - {delivery.id for delivery in originals})
        raise NotFound(f"There is no webhook delivery {', '.join(map(str, missing))}.")
    copies = []
    for original in originals:
        hook = db.session.get(Webhook, original.webhook_id)
        if not hook.active:
            raise Conflict(f"Webhook {hook.id} is disabled; enable it before redelivering.")
        copies.append(WebhookDelivery(webhook_id=hook.id, event_id=original.event_id, message_id=original.message_id,
                                      event_type=original.event_type, body=original.body, status="pending",
                                      next_attempt_at=utcnow()))
    db.session.add_all(copies)
    db.session.flush()
    for original, copy in zip(originals, copies, strict=True):
        record("webhook.redelivered", actor=actor, target_type="webhook", target_id=original.webhook_id,
               details={"delivery_id": original.id, "new_delivery_id": copy.id})
        publish("webhook.redelivered", {"webhook_id": original.webhook_id, "delivery_id": original.id,
                                        "new_delivery_id": copy.id})
    db.session.commit()
    enqueue_deliveries([copy.id for copy in copies])
    return copies


def delivery_to_dict(delivery: WebhookDelivery, attempts: list[WebhookAttempt] | None = None) -> dict[str, Any]:
    body = {"id": delivery.id, "webhook_id": delivery.webhook_id, "event_id": delivery.event_id,
            "message_id": delivery.message_id, "event_type": delivery.event_type, "status": delivery.status,
            "attempts": delivery.attempts, "created_at": iso(delivery.created_at),
            "next_attempt_at": iso(delivery.next_attempt_at),
            "finished_at": iso(delivery.finished_at)}
    if attempts is not None:
        body["attempt_log"] = [
            {"attempted_at": iso(row.attempted_at), "request_headers": row.request_headers,
             "response_status": row.response_status, "response_body": row.response_body,
             "duration_ms": round(row.duration_ms, 1), "error": row.error} for row in attempts]
    return body


def deliveries(webhook_id: int, before: int | None, limit: int) -> list[WebhookDelivery]:
    get_webhook(webhook_id)
    query = select(WebhookDelivery).where(WebhookDelivery.webhook_id == webhook_id).order_by(WebhookDelivery.id.desc())
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    return list(db.session.scalars(query.limit(limit + 1)))


def attempts_of(delivery_ids: list[int]) -> dict[int, list[WebhookAttempt]]:
    grouped: dict[int, list[WebhookAttempt]] = {delivery_id: [] for delivery_id in delivery_ids}
    for row in db.session.scalars(select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(delivery_ids))
                                  .order_by(WebhookAttempt.id)):
        grouped[row.delivery_id].append(row)
    return grouped
