"""``health.changed``: one event each time the system status changes.

The health history writer calls ``announce`` with every fresh system snapshot. The last
status is swapped atomically in Redis (``SET … GET``), so when several web processes record
the same change only the one whose swap saw the old value publishes it. The event goes into
the outbox in its own short transaction, apart from whatever request is running.
"""
from __future__ import annotations

import json
import logging
from typing import Any

from redis import Redis, RedisError
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from webapp.events.models import Event
from webapp.events.service import subject_of
from webapp.extensions import db

log = logging.getLogger(__name__)
LAST_STATUS_KEY = "flowdeck:health:last_status"


def summary(snapshot) -> dict[str, Any]:
    return {"status": snapshot.status.value,
            "checks": {name: result.status.value for name, result in snapshot.checks.items()}}


def change(previous: dict[str, Any], current: dict[str, Any]) -> dict[str, Any] | None:
    """The event payload, or None when the system status is the same."""
    if previous["status"] == current["status"]:
        return None
    checks = {name: {"from": previous["checks"].get(name), "to": status}
              for name, status in current["checks"].items() if previous["checks"].get(name) != status}
    return {"from": previous["status"], "to": current["status"], "checks": checks}


def announce(client: Redis, snapshot) -> dict[str, Any] | None:
    current = summary(snapshot)
    try:
        raw = client.set(LAST_STATUS_KEY, json.dumps(current), get=True)
    except RedisError:
        return None
    if raw is None:  # the first snapshot ever seen: nothing to compare with
        return None
    payload = change(json.loads(raw), current)
    if payload is None:
        return None
    try:
        with db.engine.begin() as conn:
            conn.execute(insert(Event).values(type="health.changed", subject=subject_of("health.changed", payload),
                                              payload=payload, attempts=0))
    except SQLAlchemyError:
        log.warning("could not store health.changed %s -> %s", payload["from"], payload["to"], exc_info=True)
        return None
    return payload
