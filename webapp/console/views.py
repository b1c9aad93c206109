"""The Overview page: where an operator lands after login.

Each number is one aggregate query (webapp/runs/pages.py) or one Redis round trip, and links to
the list behind it. Redis being down must not take the Overview down with it: the queue and
worker figures then read "unavailable" and the health section says why.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, send_from_directory
from redis import RedisError

from webapp.clock import utcnow
from webapp.queues import redis_connection
from webapp.runs.pages import overview_numbers
from webapp.security import public, require_role
from webapp.workers.service import queue_depths, worker_rows

bp = Blueprint("console", __name__)


def queue_figures() -> dict[str, int] | None:
    """Jobs waiting on every queue and workers with a fresh heartbeat; None when Redis is unreachable."""
    try:
        connection = redis_connection()
        depths = queue_depths(connection, current_app.config["RQ_QUEUES"])
        workers = worker_rows(connection, utcnow(), current_app.config["HEALTH_HEARTBEAT_SECONDS"])
    except RedisError:
        return None
    return {"queued": sum(queued for queued, _failed in depths.values()),
            "live_workers": sum(1 for worker in workers if worker["live"])}


@bp.route("/")
@require_role("viewer")
def overview():
    return render_template("console/overview.html", numbers=overview_numbers(utcnow()), queues=queue_figures())


@bp.get("/favicon.ico")
@public
def favicon():
    """Browsers and bookmark tools ask for /favicon.ico whatever the page links; it is favicon.svg
    rendered at 32 px, so no page load ends in a 404."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)
