"""Refresh-token rotation with reuse detection (docs/security.md §9, 16).

A refresh token is ``<session id>.<secret>``; the session row keeps only the hash of the one
secret that may be spent next. Spending it is a single conditional UPDATE, so of ten parallel
refreshes exactly one matches. Any other presentation of a token of a live family — a replay
of a spent token or a lost race — is treated as theft: the whole family (the session) is
revoked and ``auth.token_reuse`` is written, as the OAuth security BCP advises.
"""
from __future__ import annotations

import secrets

from sqlalchemy import update

from webapp.audit.service import record
from webapp.auth import sessions
from webapp.auth.models import UserSession
from webapp.auth.tokens import ACCESS_TOKEN_TTL, issue_access_token
from webapp.clock import utcnow
from webapp.extensions import db


class InvalidRefreshToken(Exception):
    """The token is unknown, spent, revoked or its user may not sign in; the API answers 401."""


def token_pair(row: UserSession, refresh_token: str) -> dict:
    return {
        "access_token": issue_access_token(row.user_id, row.id),
        "refresh_token": refresh_token,
        "token_type": "Bearer",
        "expires_in": int(ACCESS_TOKEN_TTL.total_seconds()),
    }


def rotate(token: str) -> tuple[UserSession, dict]:
    """Spend ``token`` and return its session with a fresh token pair; raise InvalidRefreshToken."""
    session_id, _, secret = token.partition(".")
    row = sessions.find(session_id) if secret else None
    if row is None or row.kind != "api" or row.is_revoked:
        raise InvalidRefreshToken()
    if sessions.resolve(row.id, "api") is None:  # timed out, locked, suspended: resolve ended it
        raise InvalidRefreshToken()
    new_secret = secrets.token_urlsafe(32)
    spent = db.session.execute(
        update(UserSession)
        .where(UserSession.id == row.id, UserSession.refresh_hash == sessions.digest(secret),
               UserSession.revoked_at.is_(None))
        .values(refresh_hash=sessions.digest(new_secret), generation=UserSession.generation + 1, last_seen_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount == 1
    if not spent:
        db.session.rollback()
        if sessions.revoke(row, "token_reuse"):
            record("auth.token_reuse", actor=row.user_id, target_type="session", target_id=row.id,
                   outcome="denied")
        db.session.commit()
        raise InvalidRefreshToken()
    record("auth.refresh", actor=row.user_id, target_type="session", target_id=row.id)
    db.session.commit()
    db.session.refresh(row)
    return row, token_pair(row, f"{row.id}.{new_secret}")
