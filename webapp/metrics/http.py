"""HTTP request metrics, labelled by the route TEMPLATE (``/api/v3/runs/<int:run_id>``), never the
raw path, so one series stands for a route however many ids it serves; unmatched paths (404s
of scanners) share the ``unmatched`` label instead of growing the series set without bound."""
from __future__ import annotations

import time

from flask import Flask, Response, g, request

from webapp.metrics.registry import http_duration, http_requests

UNMATCHED = "unmatched"


def init_http_metrics(app: Flask) -> None:
    @app.before_request
    def start_timer() -> None:
        g.metrics_started = time.perf_counter()

    @app.after_request
    def observe(response: Response) -> Response:
        started = g.pop("metrics_started", None)
        route = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        http_requests.labels(route, request.method, str(response.status_code)).inc()
        if started is not None:
            http_duration.labels(route).observe(time.perf_counter() - started)
        return response
