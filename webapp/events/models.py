"""``events``: the transactional outbox.

A row is written in the same transaction as the change it describes, so an event exists if and
only if the change committed. The dispatcher (``webapp.events.dispatcher``) publishes rows in id
order per ``subject`` and sets ``published_at``; a row it can never publish gets ``failed_at``
and ``last_error`` after ``EVENTS_MAX_ATTEMPTS`` tries, so it stops blocking its subject.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db

PENDING = text("published_at IS NULL AND failed_at IS NULL")
FAILED = text("failed_at IS NOT NULL")
BACKING_OFF = text("published_at IS NULL AND failed_at IS NULL AND next_attempt_at IS NOT NULL")


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_published_at_id", "published_at", "id"),
        # The dispatcher reads only pending rows: in id order (claim), by subject (head checks),
        # and the few whose subject waits for a retry.
        Index("ix_events_pending_id", "id", postgresql_where=PENDING, sqlite_where=PENDING),
        Index("ix_events_pending_subject_id", "subject", "id", postgresql_where=PENDING, sqlite_where=PENDING),
        Index("ix_events_backing_off_subject", "subject", postgresql_where=BACKING_OFF, sqlite_where=BACKING_OFF),
        # Events failed for good: few, listed on the events page and counted by health.
        Index("ix_events_failed_id", "id", postgresql_where=FAILED, sqlite_where=FAILED),
        # One subject's events in order: the run filter, SSE replays and resume points.
        Index("ix_events_subject_id", "subject", "id"),
        Index("ix_events_type_id", "type", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    # The ordering key: events of one subject ("run:12", "user:3") are published in id order.
    subject: Mapped[str] = mapped_column(String(120), default="", server_default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=None)
    failed_at: Mapped[datetime | None] = mapped_column(default=None)
    last_error: Mapped[str | None] = mapped_column(Text, default=None)

    @property
    def state(self) -> str:
        if self.published_at is not None:
            return "published"
        if self.failed_at is not None:
            return "failed"
        return "retrying" if self.attempts else "pending"
