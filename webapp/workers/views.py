"""/workers: RQ workers, queue depths and failed jobs; admins requeue or delete failed jobs."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user
from redis import RedisError

from webapp import logs
from webapp.clock import utcnow
from webapp.queues import redis_connection
from webapp.security import require_role
from webapp.workers import service

bp = Blueprint("workers", __name__)


@bp.errorhandler(RedisError)
def redis_unavailable(error: RedisError):
    return render_template("errors/error.html", status=503, title="Redis is unreachable",
                           message="Workers, queues and failed jobs live in Redis, which does not answer right now.",
                           request_id=logs.current("request_id")), 503
FAILED_PER_QUEUE = 20
ACTIONS = {"requeue": (service.requeue_failed, "Job {job} is queued again on {queue}."),
           "delete": (service.delete_failed, "Job {job} was deleted.")}


@bp.get("/workers")
@require_role("viewer")
def index():
    connection, queues = redis_connection(), current_app.config["RQ_QUEUES"]
    stats = service.queue_stats(connection, queues)
    failed = {queue["name"]: service.failed_jobs(connection, queue["name"], queues, FAILED_PER_QUEUE)
              for queue in stats if queue["failed"]}
    workers = service.worker_rows(connection, utcnow(), current_app.config["HEALTH_HEARTBEAT_SECONDS"])
    return render_template("workers/index.html", workers=workers, queues=stats, failed=failed)


@bp.post("/workers/failed/<queue>/<job_id>/<action>")
@require_role("admin")
def act(queue: str, job_id: str, action: str):
    if action not in ACTIONS:
        abort(404)
    perform, message = ACTIONS[action]
    perform(redis_connection(), queue, job_id, current_app.config["RQ_QUEUES"], current_user)
    flash(message.format(job=job_id, queue=queue), "info")
    return redirect(url_for("workers.index"))
