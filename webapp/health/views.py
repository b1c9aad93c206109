"""The /health console panel, and the summary the Overview page loads.

htmx polls the page's own URL; for an htmx request only the ``panel`` block of the page
template is rendered, so the fragment and the full page can never drift apart.
"""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from webapp.extensions import htmx
from webapp.fragments import polled, render_block
from webapp.health import service
from webapp.health.panel import key_details, latency_sparkline, status_label
from webapp.security import require_role

bp = Blueprint("health", __name__)


def panel_context() -> dict:
    snapshot = service.system_snapshot()
    recent = service.history()
    return {"snapshot": snapshot, "poll_seconds": current_app.config["HEALTH_POLL_SECONDS"],
            "sparklines": {name: latency_sparkline(recent, name) for name in snapshot.checks},
            "key_details": key_details, "status_label": status_label}


@bp.get("/health")
@require_role("viewer")
def panel():
    context = panel_context()
    if htmx:
        return polled(render_block("health/panel.html", "panel", **context))
    return polled(render_template("health/panel.html", **context))


@bp.get("/health/summary")
@require_role("viewer")
def summary():
    """The Overview's health line; loaded and refreshed by htmx so the Overview never waits on a probe."""
    snapshot = service.system_snapshot()
    return polled(render_template("health/_summary.html", snapshot=snapshot, status_label=status_label,
                                  poll_seconds=current_app.config["HEALTH_POLL_SECONDS"]))
