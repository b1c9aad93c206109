"""Periodic chores of the dispatcher: retention and lost webhook jobs."""
from __future__ import annotations

import logging
from datetime import timedelta

from flask import Flask
from sqlalchemy import delete, or_, select

from webapp.clock import utcnow
from webapp.events.models import Event
from webapp.extensions import db

log = logging.getLogger(__name__)
PRUNE_CHUNK = 5000


def prune(retention_days: int) -> int:
    """Delete rows published (or failed for good) more than ``retention_days`` ago, in chunks,
    so a large first prune never holds a long lock. Pending rows are never pruned."""
    cutoff = utcnow() - timedelta(days=retention_days)
    total = 0
    while True:
        ids = select(Event.id).where(or_(Event.published_at < cutoff, Event.failed_at < cutoff)).limit(PRUNE_CHUNK)
        deleted = db.session.execute(delete(Event).where(Event.id.in_(ids))).rowcount
        db.session.commit()
        total += deleted
        if deleted < PRUNE_CHUNK:
            return total


def housekeeping(app: Flask) -> None:
    from webapp.events.webhooks.fanout import requeue_overdue

    try:
        pruned = prune(app.config["EVENTS_RETENTION_DAYS"])
        if pruned:
            log.info("pruned %s old events", pruned)
        requeue_overdue()
    except Exception:
        db.session.rollback()
        log.exception("event housekeeping failed")
