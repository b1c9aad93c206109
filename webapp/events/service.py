"""``publish``: the one way code emits a domain event."""
from __future__ import annotations

from typing import Any

from webapp.events.models import Event
from webapp.extensions import db

# The first of these payload keys names the event's subject, its ordering key: every step
# event carries ``run_id``, so a run's step and run events are ordered together.
SUBJECT_KEYS = (("run_id", "run"), ("workflow_id", "workflow"), ("budget_id", "budget"),
                ("webhook_id", "webhook"), ("user_id", "user"))


def subject_of(type: str, payload: dict[str, Any]) -> str:
    for key, kind in SUBJECT_KEYS:
        if payload.get(key) is not None:
            return f"{kind}:{payload[key]}"
    return type.split(".", 1)[0]


def publish(type: str, payload: dict[str, Any]) -> Event:
    """Add an outbox row to the caller's transaction; it commits (or rolls back) with the change.

    On PostgreSQL a trigger on ``events`` sends ``NOTIFY flowdeck_events`` at commit, which
    wakes the dispatcher; nothing here talks to a broker.
    """
    event = Event(type=type, subject=subject_of(type, payload), payload=payload)
    db.session.add(event)
    return event
