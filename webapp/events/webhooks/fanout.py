"""From published events to webhook deliveries, and the RQ jobs that carry them.

Deliveries are rows written in the dispatcher's transaction, so an event marked published has
its deliveries, and the jobs are queued after the commit. A job lost on the way (Redis down at
that moment, a flushed queue) is found by ``requeue_overdue`` from the dispatcher's
housekeeping; the job itself refuses to run an attempt twice (``delivery.claim``).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from redis import RedisError
from sqlalchemy import select

from webapp.clock import utcnow
from webapp.events.messages import encode, matches
from webapp.events.webhooks.models import Webhook, WebhookDelivery
from webapp.extensions import db
from webapp.queues import enqueue, get_queue

log = logging.getLogger(__name__)
JOB = "jobs.webhooks.deliver"
JOB_TIMEOUT_SECONDS = 60
OVERDUE_GRACE = timedelta(minutes=2)


def plan_deliveries(messages: list[dict[str, Any]]) -> list[WebhookDelivery]:
    """Delivery rows for every active webhook whose patterns match, flushed (ids assigned)."""
    if not messages:
        return []
    hooks = list(db.session.scalars(select(Webhook).where(Webhook.active.is_(True))))
    if not hooks:
        return []
    now = utcnow()
    deliveries = [
        WebhookDelivery(webhook_id=hook.id, event_id=int(message["id"]), message_id=message["id"],
                        event_type=message["type"], body=encode(message).decode(), status="pending",
                        next_attempt_at=now)
        for message in messages for hook in hooks
        if any(matches(pattern, message["type"]) for pattern in hook.events)
    ]
    db.session.add_all(deliveries)
    db.session.flush()
    return deliveries


def enqueue_deliveries(delivery_ids: list[int], attempts_done: int = 0) -> None:
    for delivery_id in delivery_ids:
        try:
            enqueue(JOB, delivery_id, attempts_done, job_timeout=JOB_TIMEOUT_SECONDS)
        except RedisError:
            log.warning("could not queue webhook delivery %s; housekeeping will retry", delivery_id)


def schedule_retry(delivery_id: int, attempts_done: int, at: datetime) -> None:
    from flask import current_app

    config = current_app.config
    try:
        get_queue().enqueue_at(at, JOB, delivery_id, attempts_done, job_timeout=JOB_TIMEOUT_SECONDS,
                               result_ttl=config["JOB_RESULT_TTL"], failure_ttl=config["JOB_FAILURE_TTL"])
    except RedisError:
        log.warning("could not schedule webhook delivery %s; housekeeping will retry", delivery_id)


def requeue_overdue() -> int:
    """Queue again the deliveries whose attempt is overdue by more than the grace period."""
    now = utcnow()
    overdue = list(db.session.execute(
        select(WebhookDelivery.id, WebhookDelivery.attempts)
        .where(WebhookDelivery.status.in_(("pending", "retrying")),
               WebhookDelivery.next_attempt_at < now - OVERDUE_GRACE).limit(500)))
    for delivery_id, attempts in overdue:
        enqueue_deliveries([delivery_id], attempts)
    db.session.rollback()
    return len(overdue)
