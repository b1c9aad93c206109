"""The Overview page: where an operator lands after login.

Each number is one aggregate query (webapp/runs/pages.py) or one Redis round trip, and links to
the list behind it. Redis being down must not take the Overview down with it: the queue and
worker figures then read "unavailable" and the health section says why.

The page polls itself: htmx asks for ``/`` every ``HEALTH_POLL_SECONDS`` and gets only the
``live`` block of the same template (numbers, chart, needs attention), so the fragment and the
page never drift apart.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request, send_from_directory
from redis import RedisError

from webapp.clock import utcnow
from webapp.console.cache import overview_aggregates
from webapp.console.charts import STACK_ORDER, stacked_runs_chart
from webapp.console.overview import WINDOWS, budget_lines, example_slug, has_runs, needs_attention, runs_over_time
from webapp.extensions import htmx
from webapp.fragments import polled, render_block
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


def overview_context(window: str) -> dict:
    now = utcnow()
    empty = not has_runs()
    numbers, buckets = overview_aggregates(window, lambda: (overview_numbers(now), runs_over_time(now, window)))
    return {"numbers": numbers, "queues": queue_figures(), "window": window, "windows": list(WINDOWS),
            "chart": None if empty else stacked_runs_chart(buckets, window),
            "chart_statuses": STACK_ORDER, "attention": [] if empty else needs_attention(),
            "budgets": budget_lines(now),
            "empty": empty, "example": example_slug() if empty else None,
            "poll_seconds": current_app.config["HEALTH_POLL_SECONDS"], "updated_at": now}


@bp.route("/")
@require_role("viewer")
def overview():
    """``?window=7d`` switches the chart; an unknown window is the default 24 h, not an error."""
    window = request.args.get("window", "24h")
    context = overview_context(window if window in WINDOWS else "24h")
    if htmx:
        return polled(render_block("console/overview.html", "live", **context))
    return polled(render_template("console/overview.html", **context))


@bp.get("/favicon.ico")
@public
def favicon():
    """Browsers and bookmark tools ask for /favicon.ico whatever the page links; it is favicon.svg
    rendered at 32 px, so no page load ends in a 404."""
    return send_from_directory(current_app.static_folder, "favicon.ico", mimetype="image/vnd.microsoft.icon",
                               max_age=86400)
