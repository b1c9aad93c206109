"""Kubernetes probes under /api/v3/health."""
from __future__ import annotations

from flask import Blueprint, jsonify

from webapp.security import public

bp = Blueprint("health_api", __name__, url_prefix="/health")


@bp.get("/live")
@public
def live():
    """Liveness: the process answers. Touches no dependency, so a slow database never gets pods killed."""
    return jsonify({"status": "HEALTHY"})
