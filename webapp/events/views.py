"""``/events``: the outbox page (where events go, the backlog, failed events) and the SSE stream."""
from __future__ import annotations

from typing import Annotated

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_login import current_user
from pydantic import Field, ValidationError

from webapp.api.errors import ApiError
from webapp.api.inputs import DbId, Query, parse_query
from webapp.api.pagination import MAX_BIGINT_ID, encode_cursor
from webapp.events import queries, sse
from webapp.events.messages import carries_personal_data, is_pattern
from webapp.events.publishers import EXCHANGE
from webapp.queues import redis_client
from webapp.security import has_role, require_role

bp = Blueprint("events", __name__, url_prefix="/events")
PAGE_SIZE = 50


class StreamQuery(Query):
    run: DbId | None = None
    topics: Annotated[str, Field(max_length=500)] | None = None
    # What a page passes when it opens a new EventSource after a failure (no header then).
    last_event_id: Annotated[int, Field(ge=0, le=MAX_BIGINT_ID)] | None = None


def destinations() -> list[str]:
    amqp = current_app.config["AMQP_URL"]
    return ([f"RabbitMQ exchange {EXCHANGE} (topic, routing key = event type)"] if amqp else []) + \
        ["Redis pub/sub (the console's live pages)"]


@bp.get("")
@require_role("viewer")
def index():
    raw = {key: value for key in ("type", "state", "run", "cursor") if (value := request.args.get(key, "").strip())}
    error = None
    try:
        query = queries.EventsQuery.model_validate({**raw, "limit": PAGE_SIZE})
        rows = queries.fetch(query)
    except (ValidationError, ApiError):
        query, rows = queries.EventsQuery(limit=PAGE_SIZE), []
        error = "The filters are not valid: type looks like run.failed or run.*, run is a run id."
    is_admin = has_role(current_user, "admin")
    next_cursor = encode_cursor([rows[PAGE_SIZE - 1].id]) if len(rows) > PAGE_SIZE else None
    failed = queries.fetch(queries.EventsQuery(state="failed", limit=20))[:20]
    return render_template("events/index.html", events=rows[:PAGE_SIZE], next_cursor=next_cursor, query=query,
                           error=error, filters={k: v for k, v in raw.items() if k != "cursor"},
                           backlog=queries.backlog(), failed=failed, destinations=destinations(),
                           amqp_configured=bool(current_app.config["AMQP_URL"]),
                           shows_data=lambda event: is_admin or not carries_personal_data(event.type)), \
        400 if error else 200


@bp.app_template_global("event_stream_url")
def event_stream_url(run: int | None = None, topics: str | None = None) -> str:
    """The stream URL for a page, starting from the newest event the page already reflects.

    The page was rendered from the database a moment before the browser connects: starting
    from the newest published event of what it shows (``last_event_id``) replays whatever was
    published in between, and is the resume point if the first connection drops.
    """
    return url_for("events.stream", run=run, topics=topics, last_event_id=sse.newest_published(run))


def last_event_id(fallback: int | None) -> int | None:
    """The browser's ``Last-Event-ID`` on a reconnect (newer than any id in the URL), else the
    ``last_event_id`` parameter; neither means "live only"."""
    raw = request.headers.get("Last-Event-ID", "").strip()
    return int(raw) if raw.isdecimal() and len(raw) < 20 and int(raw) <= MAX_BIGINT_ID else fallback


def stream_client():
    extensions = current_app.extensions
    if "flowdeck_sse_redis" not in extensions:
        extensions["flowdeck_sse_redis"] = redis_client(current_app.config["REDIS_URL"], sse.HEARTBEAT_SECONDS + 10)
    return extensions["flowdeck_sse_redis"]


@bp.get("/stream")
@require_role("viewer")
def stream():
    """Server-Sent Events: ``?run=<id>`` or ``?topics=run.*,health.*``; resumes from ``Last-Event-ID``
    (or ``?last_event_id=``)."""
    query = parse_query(StreamQuery)
    topics = tuple(topic.strip() for topic in (query.topics or "").split(",") if topic.strip())
    if not all(is_pattern(topic) for topic in topics):
        raise ApiError("topics must be patterns such as run.* or health.changed.", code="validation_failed",
                       status=422)
    wanted = sse.StreamFilter(query.run, topics, has_role(current_user, "admin"))
    after = last_event_id(query.last_event_id)
    replayed = sse.replay(after, wanted) if after is not None else []
    body = sse.stream(stream_client(), wanted, replayed, current_app.config["EVENTS_STREAM_MAX_SECONDS"], after)
    response = Response(body, mimetype="text/event-stream")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Accel-Buffering"] = "no"  # nginx: pass each frame through at once
    return response
