"""``GET /events/stream``: Server-Sent Events for the console, fed by Redis pub/sub.

- ``?run=<id>`` streams one run's events; ``?topics=run.*,health.*`` streams by pattern;
  neither streams everything the reader may see.
- Each frame is ``id: <outbox id>``, ``event: <family>`` (the type's first part: ``run``,
  ``step``, ``health``…, what ``hx-trigger="sse:run"`` listens for) and ``data: <message>``.
- ``Last-Event-ID`` (sent by the browser when it reconnects) replays the published events
  after that id from the outbox, then the stream goes live; an id seen in both is sent once.
  Events of one run are published in id order, so a run's stream resumes without a gap.
- A comment line every ``HEARTBEAT_SECONDS`` keeps proxies from closing an idle stream, and
  the stream ends after ``EVENTS_STREAM_MAX_SECONDS``: the browser reconnects at once with
  ``Last-Event-ID``, and that new request checks the session again, so a revoked session
  stops receiving within that time.
- An ``event: bus`` frame says whether a dispatcher is running (``{"dispatching": true}``),
  at the start and whenever it changes (checked at each heartbeat): without one the stream
  would stay silent, so live pages keep polling until it says ``true``.
- The outbox is read before the response starts and the session is released: an open
  stream holds one Redis connection and no database connection.
"""
from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from redis import Redis, RedisError
from sqlalchemy import func, select

from webapp.events.messages import for_reader, matches, to_message
from webapp.events.models import Event
from webapp.events.publishers import DISPATCHING_KEY, REDIS_CHANNEL
from webapp.extensions import db

HEARTBEAT_SECONDS = 15.0
RETRY_MILLISECONDS = 2000
MAX_REPLAY = 1000


@dataclass(frozen=True)
class StreamFilter:
    run_id: int | None
    topics: tuple[str, ...]
    is_admin: bool

    def wants(self, message: dict[str, Any]) -> bool:
        if self.run_id is not None and message.get("subject") != f"run:{self.run_id}":
            return False
        return not self.topics or any(matches(topic, message["type"]) for topic in self.topics)


def frame(message: dict[str, Any]) -> str:
    family = message["type"].split(".", 1)[0]
    return f"id: {message['id']}\nevent: {family}\ndata: {json.dumps(message, separators=(',', ':'))}\n\n"


def replay(after_id: int, wanted: StreamFilter) -> list[dict[str, Any]]:
    """Published events after ``after_id`` that the filter wants, oldest first; releases the session."""
    query = select(Event).where(Event.id > after_id, Event.published_at.is_not(None)).order_by(Event.id)
    if wanted.run_id is not None:
        query = query.where(Event.subject == f"run:{wanted.run_id}")
    try:
        messages = [to_message(event) for event in db.session.scalars(query.limit(MAX_REPLAY * 5))]
    finally:
        db.session.remove()
    return [message for message in messages if wanted.wants(message)][:MAX_REPLAY]


def newest_published(run_id: int | None) -> int:
    """The id to resume from for a page rendered now: the newest published event of the run
    (its events are published in id order), or of the whole outbox."""
    query = select(func.max(Event.id)).where(Event.published_at.is_not(None))
    if run_id is not None:
        query = query.where(Event.subject == f"run:{run_id}")
    return db.session.scalar(query) or 0


def dispatching(client: Redis) -> bool:
    try:
        return bool(client.exists(DISPATCHING_KEY))
    except RedisError:
        return False


def bus_frame(alive: bool) -> str:
    return f"event: bus\ndata: {json.dumps({'dispatching': alive})}\n\n"


def stream(client: Redis, wanted: StreamFilter, replayed: list[dict[str, Any]], max_seconds: float,
           resume_from: int | None = None) -> Iterator[str]:
    """Subscribe first, then send the replay, then live messages until ``max_seconds``.

    With nothing to replay, an ``id:`` line alone sets the browser's last event id to
    ``resume_from`` (no message is dispatched), so even a stream that carried no event
    reconnects with ``Last-Event-ID``."""
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    try:
        pubsub.subscribe(REDIS_CHANNEL)
    except RedisError:
        yield f"retry: {RETRY_MILLISECONDS * 5}\n\n"
        return
    try:
        yield f"retry: {RETRY_MILLISECONDS}\n: connected\n\n"
        alive = dispatching(client)
        yield bus_frame(alive)
        if resume_from is not None and not replayed:
            yield f"id: {resume_from}\n\n"
        sent = set()
        for message in replayed:
            sent.add(message["id"])
            yield frame(for_reader(message, wanted.is_admin))
        ends = time.monotonic() + max_seconds
        while (remaining := ends - time.monotonic()) > 0:
            try:
                raw = pubsub.get_message(timeout=min(HEARTBEAT_SECONDS, remaining))
            except RedisError:
                return  # the browser reconnects and replays from its last id
            if raw is None:
                if dispatching(client) != alive:
                    alive = not alive
                    yield bus_frame(alive)
                yield ": heartbeat\n\n"
                continue
            message = json.loads(raw["data"])
            if message["id"] in sent or not wanted.wants(message):
                continue
            yield frame(for_reader(message, wanted.is_admin))
    finally:
        pubsub.close()
