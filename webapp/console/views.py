"""The Overview page: where an operator lands after login."""
from __future__ import annotations

from flask import Blueprint, render_template

from webapp.security import require_role

bp = Blueprint("console", __name__)


@bp.route("/")
@require_role("viewer")
def overview():
    return render_template("console/overview.html")
