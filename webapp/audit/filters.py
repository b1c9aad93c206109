"""Filters of the audit list, shared by the API and the console page."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, Field
from sqlalchemy import Select, tuple_

from webapp.api.inputs import MAX_DB_ID, Query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, bigint_row_id, decode_cursor, timestamp
from webapp.audit import service
from webapp.audit.models import AuditEvent
from webapp.extensions import db
from webapp.users.service import find_by_email


class AuditQuery(Query):
    event: Annotated[str, Field(max_length=64)] | None = None
    actor: Annotated[str, Field(max_length=320)] | None = None
    target: Annotated[str, Field(max_length=100)] | None = None
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT


def filtered(query: AuditQuery) -> Select:
    """``actor`` is an email or a user id; ``target`` is ``type:id`` or a user's email."""
    actor_id = resolve_actor(query.actor) if query.actor else None
    target_type = target_id = None
    if query.target:
        target_type, _, target_id = query.target.partition(":")
        if not target_id:
            user_id = resolve_actor(query.target)
            target_type, target_id = "user", str(user_id)
    select_events = service.events_query(event=query.event, actor_id=actor_id, target_type=target_type,
                                         target_id=target_id, since=query.since, until=query.until)
    if query.cursor:
        select_events = select_events.where(tuple_(AuditEvent.at, AuditEvent.id) < cursor_position(query.cursor))
    return select_events


def cursor_position(cursor: str) -> tuple[datetime, int]:
    """The (time, id) a cursor points at; anything we could not have issued is a 400."""
    return decode_cursor(cursor, (timestamp, bigint_row_id))


def resolve_actor(text: str) -> int:
    """A user id as text, or the id of the user with that email (-1 matches nothing)."""
    if text.isdecimal():
        return int(text) if int(text) <= MAX_DB_ID else -1
    user = find_by_email(text)
    return user.id if user is not None else -1


def fetch(query: AuditQuery) -> list[AuditEvent]:
    return list(db.session.scalars(filtered(query).limit(query.limit + 1)).unique())


def cursor_key(row: AuditEvent) -> list:
    return [row.at.isoformat(), row.id]


