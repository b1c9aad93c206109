"""``/audit``: the audit trail page for admins, filtered and keyset-paginated like the API."""
from __future__ import annotations

from flask import Blueprint, render_template, request

from webapp.api.errors import ApiError
from webapp.api.pagination import encode_cursor
from webapp.audit.filters import AuditQuery, cursor_key, fetch
from webapp.security import require_role

bp = Blueprint("audit", __name__, url_prefix="/audit")
PAGE_SIZE = 50
FILTERS = ("event", "actor", "target", "since_local", "until_local")


def as_utc(local: str) -> str | None:
    """``datetime-local`` inputs carry no zone; the page labels them UTC."""
    return f"{local}:00+00:00" if len(local) == 16 else (local or None)


@bp.get("")
@require_role("admin")
def index():
    filters = {name: request.args.get(name, "")[:320].replace("\x00", "") for name in FILTERS}
    raw = {"event": filters["event"] or None, "actor": filters["actor"] or None, "target": filters["target"] or None,
           "since": as_utc(filters["since_local"]), "until": as_utc(filters["until_local"]),
           "cursor": request.args.get("cursor", "").replace("\x00", "") or None, "limit": PAGE_SIZE}
    error, events, next_cursor = None, [], None
    try:
        query = AuditQuery.model_validate(raw)
        rows = fetch(query)
    except (ApiError, ValueError) as failure:
        query = AuditQuery(limit=PAGE_SIZE)
        error = getattr(failure, "message", None) or "The filters are not valid (times look like 2026-11-26T14:30)."
    else:
        events = rows[:PAGE_SIZE]
        next_cursor = encode_cursor(cursor_key(events[-1])) if len(rows) > PAGE_SIZE else None
    status = 400 if error else 200
    return render_template("audit/list.html", events=events, next_cursor=next_cursor, query=query, error=error,
                           filters={k: v for k, v in filters.items() if v}, since_local=filters["since_local"],
                           until_local=filters["until_local"]), status
