"""The ``audit_events`` table: who did what to which object, from where, and how it ended.

Append-only from the application (docs/security.md §27): there is no update or delete code path, and
a flush that tries to change or remove a row raises, so a future bug cannot rewrite history.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.users.models import User


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    __table_args__ = (
        Index("ix_audit_events_at_id", "at", "id"),
        Index("ix_audit_events_event", "event"),
        Index("ix_audit_events_target", "target_type", "target_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    event: Mapped[str] = mapped_column(String(64))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    target_type: Mapped[str | None] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(256))
    request_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    actor: Mapped[User | None] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<AuditEvent {self.id} {self.event} {self.outcome}>"


class AuditIsAppendOnly(RuntimeError):
    pass


@event.listens_for(Session, "before_flush")
def refuse_audit_rewrites(session: Session, flush_context, instances) -> None:
    """Refuse any flush that would change or delete an audit row (docs/security.md §27)."""
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditIsAppendOnly("audit events are append-only")
