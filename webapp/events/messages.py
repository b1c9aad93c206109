"""What an event looks like on the wire: ``{id, type, occurred_at, subject, data}``.

The same JSON goes to RabbitMQ, Redis pub/sub, the SSE stream, webhooks and ``GET /events``,
so a consumer can switch transport without changing its parser. ``id`` is the outbox id as a
string: delivery is at-least-once, and consumers de-duplicate on it.
"""
from __future__ import annotations

import json
import re
from typing import Any

from webapp.events.models import Event
from webapp.formatting import iso

# An event type (``run.failed``), a family (``run.*``) or everything (``*``).
PATTERN = re.compile(r"^(\*|[a-z_]+(\.[a-z_]+)*(\.\*)?)$")
# Types whose payload names people (emails, IPs): viewers see that they happened, not the data.
PERSONAL_PREFIXES = ("user.", "auth.")


def occurred_at(event: Event) -> str:
    return iso(event.created_at)


def to_message(event: Event) -> dict[str, Any]:
    return {"id": str(event.id), "type": event.type, "occurred_at": occurred_at(event),
            "subject": event.subject, "data": event.payload}


def encode(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":"), default=str).encode()


def carries_personal_data(event_type: str) -> bool:
    return event_type.startswith(PERSONAL_PREFIXES)


def for_reader(message: dict[str, Any], is_admin: bool) -> dict[str, Any]:
    """The message as a reader may see it: non-admins get ``data: null`` on personal events."""
    if is_admin or not carries_personal_data(message["type"]):
        return message
    return {**message, "data": None, "redacted": True}


def is_pattern(text: str) -> bool:
    return bool(PATTERN.match(text))


def matches(pattern: str, event_type: str) -> bool:
    """``run.failed`` exactly, ``run.*`` anything under ``run.``, ``*`` everything."""
    if pattern == "*":
        return True
    if pattern.endswith(".*"):
        return event_type.startswith(pattern[:-1])
    return pattern == event_type
