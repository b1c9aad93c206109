"""Writing and reading the audit trail (docs/security.md §25-27).

``record`` only adds the row to the caller's session: the caller commits, so an event commits
atomically with the action it describes (and rolls back with it). The one exception is a
failed login, whose caller commits the event although the response is 401 (docs/security.md §8).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select

from webapp.audit.context import client_ip, request_id, user_agent
from webapp.audit.models import AuditEvent
from webapp.extensions import db
from webapp.formatting import iso
from webapp.logs import escape_newlines

OUTCOMES = ("success", "failure", "denied")
MAX_DETAIL_CHARS = 500
# Never store credentials, whatever a caller passes in ``details`` (docs/security.md §26).
SECRET_KEYS = frozenset({"password", "new_password", "current_password", "token", "access_token",
                         "refresh_token", "secret", "password_hash"})


def safe_text(value: str, limit: int) -> str:
    """One line, no NUL (PostgreSQL refuses it), bounded: safe to store and to show."""
    return escape_newlines(value).replace("\x00", "\\x00")[:limit]


def record(event: str, *, actor=None, target_type: str | None = None, target_id: str | int | None = None,
           outcome: str = "success", details: dict | None = None) -> AuditEvent:
    """Add one audit event to the current session; ``actor`` is a User, a user id or None."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown audit outcome {outcome!r}")
    actor_id = actor if isinstance(actor, int) or actor is None else actor.id
    row = AuditEvent(
        event=event,
        actor_id=actor_id,
        target_type=target_type,
        target_id=None if target_id is None else safe_text(str(target_id), 64),
        outcome=outcome,
        ip=client_ip(),
        user_agent=user_agent(),
        request_id=request_id(),
        details=clean_details(details or {}),
    )
    db.session.add(row)
    return row


def clean_details(details: dict[str, Any]) -> dict[str, Any]:
    cleaned: dict[str, Any] = {}
    for key, value in details.items():
        if str(key).lower() in SECRET_KEYS:
            continue
        if isinstance(value, str):
            value = safe_text(value, MAX_DETAIL_CHARS)
        elif not isinstance(value, int | float | bool) and value is not None:
            value = safe_text(str(value), MAX_DETAIL_CHARS)
        cleaned[safe_text(str(key), 64)] = value
    return cleaned


def events_query(*, event: str | None = None, actor_id: int | None = None, target_type: str | None = None,
                 target_id: str | None = None, since: datetime | None = None,
                 until: datetime | None = None) -> Select:
    """Newest first; filters are exact matches (``event`` also matches a prefix ending in '.')."""
    query = select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
    if event:
        query = query.where(AuditEvent.event.startswith(event) if event.endswith(".") else AuditEvent.event == event)
    if actor_id is not None:
        query = query.where(AuditEvent.actor_id == actor_id)
    if target_type:
        query = query.where(AuditEvent.target_type == target_type)
    if target_id:
        query = query.where(AuditEvent.target_id == target_id)
    if since is not None:
        query = query.where(AuditEvent.at >= since)
    if until is not None:
        query = query.where(AuditEvent.at < until)
    return query


def to_dict(row: AuditEvent) -> dict[str, Any]:
    return {
        "id": row.id,
        "at": iso(row.at),
        "event": row.event,
        "actor": None if row.actor is None else {"id": row.actor.id, "email": row.actor.email},
        "target_type": row.target_type,
        "target_id": row.target_id,
        "outcome": row.outcome,
        "ip": row.ip,
        "user_agent": row.user_agent,
        "request_id": row.request_id,
        "details": row.details,
    }
