"""Server-side sessions for browsers and API clients (docs/security.md §12-18).

A browser holds a random secret in its (signed) cookie; the row's id is the SHA-256 of it.
An API client holds an access JWT whose ``sid`` names the row, and a refresh token
``<sid>.<secret>`` whose hash is the row's ``refresh_hash``. Either way ``resolve`` re-reads
the row on every request, so revocation, lock, suspension and timeouts apply at once.

Timeouts: a browser session ends after ``SESSION_IDLE_MINUTES`` without a request and at the
latest ``SESSION_ABSOLUTE_HOURS`` after login. An API session (one refresh-token family) ends
``REFRESH_TOKEN_DAYS`` after login, or ``REFRESH_TOKEN_DAYS`` after its last refresh if unused.
"""
from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from webapp.auth.models import UserSession
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.formatting import iso
from webapp.users.models import User

# Writing last_seen_at on every request would turn every page view into a write.
TOUCH_INTERVAL = timedelta(seconds=60)
SESSION_ID = re.compile(r"[0-9a-f]{32,64}")


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def idle_limit(kind: str) -> timedelta:
    if kind == "browser":
        return timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"])
    return timedelta(days=current_app.config["REFRESH_TOKEN_DAYS"])


def lifetime(kind: str) -> timedelta:
    if kind == "browser":
        return timedelta(hours=current_app.config["SESSION_ABSOLUTE_HOURS"])
    return timedelta(days=current_app.config["REFRESH_TOKEN_DAYS"])


def start(user: User, kind: str, *, ip: str | None, user_agent: str | None) -> tuple[UserSession, str]:
    """Create a session row; return it with the secret only the client will hold.

    For a browser the secret goes in the cookie; for the API it is the first refresh token.
    """
    now = utcnow()
    secret = secrets.token_urlsafe(32)
    if kind == "browser":
        row = UserSession(id=digest(secret), user_id=user.id, kind=kind, expires_at=now + lifetime(kind))
    else:
        row = UserSession(id=secrets.token_hex(16), user_id=user.id, kind=kind, refresh_hash=digest(secret),
                          expires_at=now + lifetime(kind))
        secret = f"{row.id}.{secret}"
    row.created_at = row.last_seen_at = now
    row.ip, row.user_agent = ip, user_agent
    db.session.add(row)
    db.session.flush()
    return row, secret


def find(session_id: str) -> UserSession | None:
    """The row with this id, or None; text that cannot be one of our hex ids is not looked up."""
    return db.session.get(UserSession, session_id) if SESSION_ID.fullmatch(session_id) else None


def resolve(session_id: str, kind: str) -> UserSession | None:
    """The live session ``session_id`` of ``kind``, or None; ends it if it timed out or its user
    may no longer be signed in."""
    row = find(session_id)
    if row is None or row.kind != kind or row.is_revoked:
        return None
    now = utcnow()
    reason = ending_reason(row, now)
    if reason is not None:
        revoke(row, reason)
        db.session.commit()
        return None
    if now - row.last_seen_at >= TOUCH_INTERVAL:
        row.last_seen_at = now
        db.session.commit()
    return row


def ending_reason(row: UserSession, now) -> str | None:
    if row.expires_at <= now:
        return "expired"
    if now - row.last_seen_at >= idle_limit(row.kind):
        return "idle"
    if row.user.locked_at(now):
        return "locked"
    if not row.user.is_active:
        return row.user.status
    return None


def revoke(row: UserSession, reason: str) -> bool:
    """End one session (and so its refresh family); False if it had already ended."""
    result = db.session.execute(
        update(UserSession).where(UserSession.id == row.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=utcnow(), revoked_reason=reason).execution_options(synchronize_session=False)
    )
    db.session.refresh(row)
    return result.rowcount == 1


def revoke_all(user_id: int, reason: str, *, keep: str | None = None) -> int:
    """End every live session of a user (except ``keep``); returns how many ended."""
    query = update(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None))
    if keep is not None:
        query = query.where(UserSession.id != keep)
    result = db.session.execute(query.values(revoked_at=utcnow(), revoked_reason=reason)
                                .execution_options(synchronize_session=False))
    return result.rowcount


def live_sessions(user_id: int) -> list[UserSession]:
    now = utcnow()
    rows = db.session.scalars(
        select(UserSession).where(UserSession.user_id == user_id, UserSession.revoked_at.is_(None),
                                  UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc())
    ).all()
    return [row for row in rows if now - row.last_seen_at < idle_limit(row.kind)]


def to_dict(row: UserSession, current_id: str | None = None) -> dict:
    return {
        "id": row.id,
        "kind": row.kind,
        "created_at": iso(row.created_at),
        "last_seen_at": iso(row.last_seen_at),
        "expires_at": iso(row.expires_at),
        "ip": row.ip,
        "user_agent": row.user_agent,
        "current": row.id == current_id,
    }
