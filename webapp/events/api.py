"""``/api/v3/events``: the outbox, newest first, keyset paginated.

Viewers read events too, but ``user.*`` and ``auth.*`` come without their data (it names
people); admins see everything.
"""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from webapp.api.inputs import parse_query
from webapp.api.pagination import page
from webapp.events.queries import EventsQuery, cursor_key, fetch, render
from webapp.security import has_role, require_role

bp = Blueprint("events_api", __name__, url_prefix="/events")


@bp.get("")
@require_role("viewer")
def list_events():
    """List outbox events (filters: type, since, run, state)."""
    query = parse_query(EventsQuery)
    is_admin = has_role(current_user, "admin")
    return jsonify(page(fetch(query), query.limit, cursor_key, lambda event: render(event, is_admin)))
