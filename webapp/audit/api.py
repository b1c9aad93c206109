"""``/api/v3/audit``: the audit trail for admins, newest first, keyset paginated."""
from __future__ import annotations

from flask import Blueprint, jsonify

from webapp.api.inputs import parse_query
from webapp.api.pagination import page
from webapp.audit.filters import AuditQuery, cursor_key, fetch
from webapp.audit.service import to_dict
from webapp.security import require_role

bp = Blueprint("audit_api", __name__, url_prefix="/audit")


@bp.get("")
@require_role("admin")
def list_events():
    query = parse_query(AuditQuery)
    return jsonify(page(fetch(query), query.limit, cursor_key, to_dict))
