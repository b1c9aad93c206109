"""One delivery attempt, run by the RQ job ``jobs.webhooks.deliver``.

The attempt is claimed by bumping ``attempts`` only if it still equals what the job was
queued with, and committed before the HTTP call: a job queued twice (housekeeping re-queue,
a retried job) sends once, and no database connection or lock is held while the receiver
thinks. A 2xx within 15 s is delivered; anything else (3xx included: redirects are never
followed) is retried on ``WEBHOOK_RETRY_SCHEDULE`` through RQ scheduled jobs, then failed.
An endpoint failing ``WEBHOOK_DISABLE_FAILURES`` times in a row for ``WEBHOOK_DISABLE_DAYS``
is disabled, audited, announced as ``webhook.disabled`` and mailed to its creator and the
admins (``alerts``).
"""
from __future__ import annotations

import http.client
import logging
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from webapp.audit.service import record
from webapp.clock import utcnow
from webapp.events.service import publish
from webapp.events.webhooks import alerts, signing, targets
from webapp.events.webhooks.fanout import schedule_retry
from webapp.events.webhooks.models import Webhook, WebhookAttempt, WebhookDelivery
from webapp.extensions import db

log = logging.getLogger(__name__)
DELIVERY_TIMEOUT_SECONDS = 15.0
USER_AGENT = "Flowdeck-Webhooks/1"


def claim(delivery_id: int, attempts_done: int) -> bool:
    claimed = db.session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id, WebhookDelivery.attempts == attempts_done,
               WebhookDelivery.status.in_(("pending", "retrying")))
        .values(attempts=attempts_done + 1)).rowcount
    db.session.commit()
    return bool(claimed)


def live_secrets(hook: Webhook, now) -> list[str]:
    keys = [hook.secret]
    if hook.previous_secret and hook.previous_secret_expires_at and hook.previous_secret_expires_at > now:
        keys.append(hook.previous_secret)
    return keys


def signed_headers(hook: Webhook, delivery: WebhookDelivery, body: bytes, now) -> dict[str, str]:
    timestamp = int(now.timestamp())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": delivery.message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature_header(live_secrets(hook, now), delivery.message_id, timestamp, body),
    }


def attempt(delivery_id: int, attempts_done: int) -> str:
    """Run attempt ``attempts_done + 1`` of a delivery; returns the delivery's status after it."""
    if not claim(delivery_id, attempts_done):
        return "skipped"
    delivery = db.session.get(WebhookDelivery, delivery_id)
    hook = db.session.get(Webhook, delivery.webhook_id) if delivery is not None else None
    if hook is None:  # the webhook was deleted (with its deliveries) meanwhile
        db.session.rollback()
        return "gone"
    now = utcnow()
    if not hook.active:
        delivery.status, delivery.finished_at = "cancelled", now
        db.session.commit()
        return delivery.status
    body = delivery.body.encode()
    headers = signed_headers(hook, delivery, body, now)
    row = WebhookAttempt(delivery_id=delivery.id, attempted_at=now, request_headers=dict(headers))
    url = hook.url
    db.session.rollback()  # end the read transaction: no connection is held during the call
    config = current_app.config
    try:
        target = targets.resolve(url, config["WEBHOOK_ALLOWED_HOSTS"], config["WEBHOOK_ALLOWED_NETWORKS"])
        response = targets.post(target, headers, body, DELIVERY_TIMEOUT_SECONDS)
        row.response_status, row.response_body, row.duration_ms = response.status, response.body, response.duration_ms
        ok = 200 <= response.status < 300 and response.duration_ms <= DELIVERY_TIMEOUT_SECONDS * 1000
        if not ok:
            redirect = " (redirects are not followed)" if 300 <= response.status < 400 else ""
            row.error = f"HTTP {response.status}{redirect}"
    except targets.Refused as error:
        ok, row.error = False, error.message
    except (OSError, http.client.HTTPException) as error:
        ok, row.error = False, f"{type(error).__name__}: {error}"
    return settle(delivery_id, row, ok)


def settle(delivery_id: int, row: WebhookAttempt, ok: bool) -> str:
    config = current_app.config
    now = utcnow()
    delivery = db.session.get(WebhookDelivery, delivery_id, with_for_update=True)
    hook = db.session.get(Webhook, delivery.webhook_id, with_for_update=True) if delivery is not None else None
    if hook is None:  # deleted while the request was in flight: nothing left to record
        db.session.rollback()
        return "gone"
    db.session.add(row)
    retry_at = None
    if ok:
        delivery.status, delivery.finished_at, delivery.next_attempt_at = "succeeded", now, None
        hook.consecutive_failures, hook.failing_since = 0, None
    else:
        hook.consecutive_failures += 1
        hook.failing_since = hook.failing_since or now
        schedule = config["WEBHOOK_RETRY_SCHEDULE"]
        is_ping = delivery.event_id is None
        if not is_ping and delivery.attempts <= len(schedule):
            retry_at = now + timedelta(seconds=schedule[delivery.attempts - 1])
            delivery.status, delivery.next_attempt_at = "retrying", retry_at
        else:
            delivery.status, delivery.finished_at, delivery.next_attempt_at = "failed", now, None
        maybe_disable(hook, now)
    db.session.commit()
    if retry_at is not None:
        schedule_retry(delivery.id, delivery.attempts, retry_at)
    return delivery.status


def maybe_disable(hook: Webhook, now) -> None:
    config = current_app.config
    failures, days = config["WEBHOOK_DISABLE_FAILURES"], config["WEBHOOK_DISABLE_DAYS"]
    if not hook.active or hook.consecutive_failures < failures or now - hook.failing_since < timedelta(days=days):
        return
    hook.active = False
    since = hook.failing_since.isoformat()
    hook.disabled_reason = f"{hook.consecutive_failures} failed attempts in a row since {since}"
    record("webhook.disabled", target_type="webhook", target_id=hook.id, outcome="failure",
           details={"url": hook.url, "reason": hook.disabled_reason})
    publish("webhook.disabled", {"webhook_id": hook.id, "url": hook.url, "reason": hook.disabled_reason})
    alerts.mail_disabled(hook)
    log.error("webhook %s (%s) disabled: %s", hook.id, hook.url, hook.disabled_reason)
