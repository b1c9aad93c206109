"""``publish``: the one way code emits a domain event."""
from __future__ import annotations

from typing import Any

from webapp.events.models import Event
from webapp.extensions import db


def publish(type: str, payload: dict[str, Any]) -> Event:
    """Add an outbox row to the caller's transaction; it commits (or rolls back) with the change."""
    event = Event(type=type, payload=payload)
    db.session.add(event)
    return event
