"""The outbox read model: the events list (API and page) and the backlog figures (health)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, Field
from sqlalchemy import Select, func, select

from webapp.api.inputs import DbId, Query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, row_id
from webapp.clock import utcnow
from webapp.events.messages import PATTERN, for_reader, to_message
from webapp.events.models import Event
from webapp.extensions import db
from webapp.formatting import iso


class EventsQuery(Query):
    type: Annotated[str, Field(max_length=100, pattern=PATTERN.pattern)] | None = None
    since: AwareDatetime | None = None
    run: DbId | None = None
    state: Literal["pending", "published", "failed"] | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT


def fetch(query: EventsQuery) -> list[Event]:
    """Newest first; ``type`` is exact or a ``prefix.*`` pattern."""
    select_events = select(Event).order_by(Event.id.desc())
    if query.type:
        select_events = select_events.where(
            Event.type.startswith(query.type[:-1]) if query.type.endswith(".*") else Event.type == query.type)
    if query.since is not None:
        select_events = select_events.where(Event.created_at >= query.since)
    if query.run is not None:
        select_events = select_events.where(Event.subject == f"run:{query.run}")
    if query.state == "pending":
        select_events = select_events.where(Event.published_at.is_(None), Event.failed_at.is_(None))
    elif query.state == "published":
        select_events = select_events.where(Event.published_at.is_not(None))
    elif query.state == "failed":
        select_events = select_events.where(Event.failed_at.is_not(None))
    if query.cursor:
        (before,) = decode_cursor(query.cursor, (row_id,))
        select_events = select_events.where(Event.id < before)
    return list(db.session.scalars(select_events.limit(query.limit + 1)))


def cursor_key(event: Event) -> list:
    return [event.id]


def render(event: Event, is_admin: bool) -> dict[str, Any]:
    """The wire message plus the outbox bookkeeping an operator needs."""
    return {**for_reader(to_message(event), is_admin), "state": event.state, "attempts": event.attempts,
            "published_at": iso(event.published_at),
            "last_error": event.last_error}


def backlog_statement() -> Select:
    """Three small subqueries rather than one pass over the table: each reads only its partial
    index (pending rows, failed rows), however many published rows the outbox keeps."""
    waiting = (Event.published_at.is_(None), Event.failed_at.is_(None))
    return select(select(func.count()).select_from(Event).where(*waiting).scalar_subquery(),
                  select(func.min(Event.created_at)).where(*waiting).scalar_subquery(),
                  select(func.count()).select_from(Event).where(Event.failed_at.is_not(None)).scalar_subquery())


def backlog_figures(row) -> dict[str, Any]:
    pending_count, oldest, failed = row
    age = round(max((utcnow() - oldest).total_seconds(), 0.0), 3) if oldest is not None else 0.0
    return {"pending": pending_count, "oldest_pending_age_seconds": age, "failed": failed}


def backlog() -> dict[str, Any]:
    """Pending rows, the age of the oldest, and rows failed for good."""
    return backlog_figures(db.session.execute(backlog_statement()).one())
