"""The dispatcher: outbox rows out to RabbitMQ, Redis pub/sub and webhooks.

One ``dispatch_once`` is one transaction: claim a batch (``claims``), publish what may go out
in id order (in waves of one event per subject, each wave confirmed at once), set
``published_at`` on what the broker confirmed, queue webhook deliveries, and
commit. A crash anywhere before the commit leaves the rows unpublished, so they go out again:
delivery is at-least-once and a duplicate carries the same ``id``.

A subject whose event fails stops for the rest of the batch, so its later events never
overtake it; the failed event is retried after ``EVENTS_RETRY_SECONDS`` (doubling) and marked
failed, with its reason, after ``EVENTS_MAX_ATTEMPTS`` tries, which unblocks its subject.
A transport that is down is not the event's fault: nothing is counted, the batch stops, and
the caller backs off (``webapp.events.runner``).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from flask import Flask
from sqlalchemy import Integer, update

from webapp.clock import utcnow
from webapp.events import claims
from webapp.events.messages import encode, to_message
from webapp.events.models import Event
from webapp.events.publishers import Outgoing, RabbitPublisher, RedisPublisher, Rejected, SinkDown
from webapp.extensions import db
from webapp.queues import redis_client

log = logging.getLogger(__name__)
MAX_RETRY_DELAY_SECONDS = 300


@dataclass
class BatchResult:
    claimed: int = 0
    published: int = 0
    unroutable: int = 0
    retrying: int = 0
    failed: int = 0
    held: int = 0
    error: str | None = None
    deliveries: list[int] = field(default_factory=list)


class Dispatcher:
    def __init__(self, app: Flask, amqp_url: str | None = None, redis_url: str | None = None) -> None:
        config = app.config
        self.app = app
        self.batch_size = config["EVENTS_BATCH_SIZE"]
        self.max_attempts = config["EVENTS_MAX_ATTEMPTS"]
        self.retry_seconds = config["EVENTS_RETRY_SECONDS"]
        self.max_bytes = config["EVENTS_MAX_BYTES"]
        amqp_url = amqp_url if amqp_url is not None else config["AMQP_URL"]
        self.rabbit = RabbitPublisher(amqp_url) if amqp_url else None
        self.redis = RedisPublisher(redis_client(redis_url or config["REDIS_URL"], timeout=5))

    @property
    def destinations(self) -> list[str]:
        return (["rabbitmq"] if self.rabbit else []) + ["redis"]

    def dispatch_once(self) -> BatchResult:
        """Publish one batch; the caller holds an app context."""
        from webapp.events.webhooks.fanout import enqueue_deliveries, plan_deliveries

        result = BatchResult()
        session = db.session
        try:
            now = utcnow()
            rows = claims.claim(session, self.batch_size, now)
            result.claimed = len(rows)
            ready, result.held = claims.publishable(session, rows)
            sent = self.send(ready, result, now)
            if sent:  # one statement for the batch, not one UPDATE per row
                ids = claims.one_of(session, Event.id, [event.id for event, _ in sent], Integer)
                session.execute(update(Event).where(ids)
                                .values(published_at=now), execution_options={"synchronize_session": False})
            result.published = len(sent)
            deliveries = plan_deliveries([message for _, message in sent])
            session.commit()
        except Exception:
            session.rollback()
            raise
        result.deliveries = [delivery.id for delivery in deliveries]
        enqueue_deliveries(result.deliveries)
        return result

    def send(self, ready: list[Event], result: BatchResult, now) -> list[tuple[Event, dict[str, Any]]]:
        """Publish ``ready`` (id order) in waves of at most one event per subject, so the broker
        confirms a whole wave at once while a subject's events still go out one after another."""
        sent: list[tuple[Event, dict[str, Any], bytes]] = []
        stopped: set[str] = set()
        pending = ready
        while pending and result.error is None:
            wave: list[tuple[Event, dict[str, Any], bytes]] = []
            later: list[Event] = []
            subjects: set[str] = set()
            for event in pending:
                if event.subject in stopped:
                    result.held += 1
                elif event.subject in subjects:
                    later.append(event)
                else:
                    subjects.add(event.subject)
                    message = to_message(event)
                    wave.append((event, message, encode(message)))
            sent.extend(self.publish_wave(wave, stopped, result, now))
            pending = later
        sent.sort(key=lambda item: item[0].id)  # Redis gets them in id order, as a page's resume expects
        try:
            self.redis.publish_many([body for _, _, body in sent])
        except SinkDown as error:
            if self.rabbit is None:  # Redis is the only destination: keep the rows for later
                result.error = str(error)
                return []
            # RabbitMQ has them; live pages catch up from the outbox (Last-Event-ID).
            log.warning("events reached RabbitMQ but not Redis pub/sub: %s", error)
        return [(event, message) for event, message, _ in sent]

    def publish_wave(self, wave, stopped: set[str], result: BatchResult, now) -> list[tuple[Event, dict, bytes]]:
        """Send one wave to RabbitMQ; returns what went out. A refused event stops its subject."""
        fits = []
        for item in wave:
            event, _, body = item
            if len(body) > self.max_bytes:
                self.refuse(event, f"the message is {len(body)} bytes, over EVENTS_MAX_BYTES ({self.max_bytes})",
                            stopped, result, now)
            else:
                fits.append(item)
        if self.rabbit is None or not fits:
            return fits
        try:
            outcomes = self.rabbit.publish_wave([Outgoing(event.type, body, message["id"], event.created_at)
                                                 for event, message, body in fits])
        except SinkDown as error:
            result.error = str(error)
            return []
        out = []
        for item, outcome in zip(fits, outcomes, strict=True):
            if isinstance(outcome, Rejected):
                self.refuse(item[0], str(outcome), stopped, result, now)
            else:
                result.unroutable += not outcome
                out.append(item)
        return out

    def refuse(self, event: Event, reason: str, stopped: set[str], result: BatchResult, now) -> None:
        self.note_failure(event, reason, now, result)
        stopped.add(event.subject)

    def note_failure(self, event: Event, reason: str, now, result: BatchResult) -> None:
        event.attempts += 1
        event.last_error = reason[:2000]
        if event.attempts >= self.max_attempts:
            event.failed_at = now
            result.failed += 1
            log.error("event %s (%s) failed for good after %s attempts: %s", event.id, event.type,
                      event.attempts, reason)
        else:
            delay = min(self.retry_seconds * 2 ** (event.attempts - 1), MAX_RETRY_DELAY_SECONDS)
            event.next_attempt_at = now + timedelta(seconds=delay)
            result.retrying += 1
            log.warning("event %s (%s) attempt %s failed, retrying in %.1fs: %s", event.id, event.type,
                        event.attempts, delay, reason)

    def close(self) -> None:
        if self.rabbit is not None:
            self.rabbit.close()
        self.redis.client.close()
