"""``events``: the transactional outbox (DESIGN §9).

A row is written in the same transaction as the change it describes, so an event exists if and
only if the change committed; a dispatcher (later) publishes rows and sets ``published_at``.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db


class Event(db.Model):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_published_at_id", "published_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(default=None)
