"""Server-side sessions (browser and API) and email verification tokens.

A ``user_sessions`` row is the only thing that makes a cookie or a bearer token valid: every
request re-reads it, so logout, revoke, lock, suspend and password change end a session at
once (docs/security.md §12). Its primary key is the SHA-256 of the random secret the client holds, so
a database read never yields a usable credential. For API sessions the row is also the
refresh-token family: ``refresh_hash`` is the one refresh token that may be spent next and
``generation`` counts rotations.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.users.models import User


class UserSession(db.Model):
    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    refresh_hash: Mapped[str | None] = mapped_column(String(64))
    generation: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    revoked_at: Mapped[datetime | None] = mapped_column()
    revoked_reason: Mapped[str | None] = mapped_column(String(32))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(256))

    user: Mapped[User] = relationship(lazy="joined")

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class EmailToken(db.Model):
    """A single-use, expiring token bound to one user AND the address it was sent to."""

    __tablename__ = "email_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(320))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()
    used_at: Mapped[datetime | None] = mapped_column()
