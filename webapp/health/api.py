"""Probes and health data under /api/v3/health.

``/live`` and ``/ready`` are for Kubernetes; ``/system`` for load balancers and monitoring.
Statuses are public (a probe has no credentials), details (versions, pool use, queue names,
error texts) only for a signed-in user or a caller presenting HEALTH_TOKEN.
"""
from __future__ import annotations

from flask import Blueprint, jsonify, request
from flask_login import current_user
from pydantic import Field

from webapp.api.errors import ApiError
from webapp.api.inputs import Query, parse_query
from webapp.auth.identity import bearer_token
from webapp.exceptions import NotFound
from webapp.health import service
from webapp.security import public

bp = Blueprint("health_api", __name__, url_prefix="/health")


class HistoryQuery(Query):
    limit: int | None = Field(default=None, ge=1, le=10000)


def details_allowed() -> bool:
    return bool(current_user.is_authenticated) or service.token_grants_details(bearer_token(request))


@bp.get("/live")
@public
def live():
    """Liveness: the process answers. Touches no dependency, so a slow database never gets pods killed."""
    return jsonify({"status": "HEALTHY"})


@bp.get("/ready")
@public
def ready():
    """Readiness: database and Redis usable (HEALTHY or DEGRADED), else 503 so traffic goes elsewhere."""
    snapshot = service.readiness()
    return jsonify(snapshot.to_dict(with_details=False)), service.http_status(snapshot)


@bp.get("/system")
@public
def system():
    snapshot = service.system_snapshot()
    return jsonify(snapshot.to_dict(with_details=details_allowed())), service.http_status(snapshot)


@bp.get("/checks/<name>")
@public
def check(name: str):
    snapshot = service.check_snapshot(name)
    if snapshot is None:
        raise NotFound(f"There is no health check named {name!r}.", code="check_not_found")
    body = {"name": name, **snapshot.checks[name].to_dict(with_details=details_allowed())}
    return jsonify({"check": body}), service.http_status(snapshot)


@bp.get("/history")
@public
def history():
    """Recent snapshots for charts; like details, only for users or HEALTH_TOKEN holders."""
    if not details_allowed():
        raise ApiError("Sign in or present the health token to read the history.", code="unauthenticated",
                       status=401, headers={"WWW-Authenticate": 'Bearer realm="flowdeck"'})
    query = parse_query(HistoryQuery)
    return jsonify({"items": service.history(query.limit)})
