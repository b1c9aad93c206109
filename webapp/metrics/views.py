"""``GET /metrics``: the Prometheus text format, for METRICS_TOKEN or METRICS_ALLOWED_NETWORKS only.

Metrics name workflows and budgets and show traffic, so they are never open to the world: with
neither setting, every scrape is refused. The route is ``public`` to the session layer (Prometheus
has no account) and guards itself here. Under gunicorn (``PROMETHEUS_MULTIPROC_DIR`` set) the
counters of every worker process are summed by prometheus_client's ``MultiProcessCollector``.
"""
from __future__ import annotations

import hmac
import ipaddress
import logging
import os

from flask import Blueprint, Flask, Response, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess
from redis import RedisError

from webapp.metrics.audit import listen_for_login_failures
from webapp.metrics.collectors import FlowdeckCollector
from webapp.metrics.http import init_http_metrics
from webapp.metrics.transitions import WEB_HANDOFF, count_handed_off, listen_for_transitions
from webapp.queues import redis_connection
from webapp.security import public

bp = Blueprint("metrics", __name__)
log = logging.getLogger(__name__)
REFUSED = "metrics are open to METRICS_TOKEN (Bearer) or METRICS_ALLOWED_NETWORKS only\n"


def init_metrics(app: Flask) -> None:
    """One scrape registry per app: process metrics (summed across gunicorn workers when in
    multiprocess mode) plus the scrape-time collectors."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(REGISTRY)
    registry.register(FlowdeckCollector(app))
    app.extensions["metrics_registry"] = registry
    init_http_metrics(app)
    listen_for_login_failures()
    listen_for_transitions()
    app.register_blueprint(bp)


def scrape_allowed() -> bool:
    config = current_app.config
    token = config["METRICS_TOKEN"]
    scheme, _, presented = request.headers.get("Authorization", "").partition(" ")
    if token and scheme.lower() == "bearer" and hmac.compare_digest(token.encode(), presented.strip().encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in network for network in config["METRICS_ALLOWED_NETWORKS"])


@bp.get("/metrics")
@public
def metrics() -> Response:
    if not scrape_allowed():
        return Response(REFUSED, status=403, mimetype="text/plain", headers={"Cache-Control": "no-store"})
    try:  # transitions committed outside any request or job (flask reconcile...) count in this scrape
        count_handed_off(redis_connection(), WEB_HANDOFF)
    except RedisError:  # Redis down: they wait for a later scrape; flowdeck_scrape_error says so
        log.warning("metrics: could not take the transitions handed to the web", exc_info=True)
    body = generate_latest(current_app.extensions["metrics_registry"])
    return Response(body, content_type=CONTENT_TYPE_LATEST, headers={"Cache-Control": "no-store"})
