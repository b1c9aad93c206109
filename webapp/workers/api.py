"""/api/v3/workers and /api/v3/queues: RQ's state for scripts, and admin actions on failed jobs."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from flask_login import current_user
from pydantic import Field
from redis import RedisError

from webapp.api.errors import error_response
from webapp.api.inputs import Query, parse_query
from webapp.clock import utcnow
from webapp.queues import redis_connection
from webapp.security import require_role
from webapp.workers import service

bp = Blueprint("workers_api", __name__)


@bp.errorhandler(RedisError)
def redis_unavailable(error: RedisError):
    """Everything here lives in Redis: while it is unreachable, say so with a 503 (DESIGN 10)."""
    return error_response(503, "dependency_unavailable", "Redis is unreachable, so workers and queues cannot be read.",
                          {"dependency": "redis"})


class FailedQuery(Query):
    limit: int = Field(default=50, ge=1, le=500)


def configured() -> list[str]:
    return current_app.config["RQ_QUEUES"]


@bp.get("/workers")
@require_role("viewer")
def workers():
    rows = service.worker_rows(redis_connection(), utcnow(), current_app.config["HEALTH_HEARTBEAT_SECONDS"])
    return jsonify({"items": rows})


@bp.get("/queues")
@require_role("viewer")
def queues():
    return jsonify({"items": service.queue_stats(redis_connection(), configured())})


@bp.get("/queues/<name>/failed")
@require_role("viewer")
def failed(name: str):
    query = parse_query(FailedQuery)
    return jsonify({"items": service.failed_jobs(redis_connection(), name, configured(), query.limit)})


@bp.post("/queues/<name>/failed/<job_id>/requeue")
@require_role("admin")
def requeue(name: str, job_id: str):
    service.requeue_failed(redis_connection(), name, job_id, configured(), current_user)
    return jsonify({"job": {"id": job_id, "queue": name, "status": "queued"}})


@bp.delete("/queues/<name>/failed/<job_id>")
@require_role("admin")
def delete(name: str, job_id: str):
    service.delete_failed(redis_connection(), name, job_id, configured(), current_user)
    return "", 204
