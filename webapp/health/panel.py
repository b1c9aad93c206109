"""What the /health panel shows: a few key figures per component and latency sparklines.

The sparkline is an SVG polyline computed here, so the page needs no chart script and no
inline style (the CSP forbids both).
"""
from __future__ import annotations

from typing import Any

from webapp.health.checks import CheckResult

SPARK_WIDTH = 120
SPARK_HEIGHT = 24


def sparkline_points(values: list[float], width: int = SPARK_WIDTH, height: int = SPARK_HEIGHT) -> str:
    """Map values onto a width x height box (y grows downwards); fewer than two values draw nothing."""
    if len(values) < 2:
        return ""
    top, bottom = max(values), min(values)
    span = (top - bottom) or 1.0
    step = width / (len(values) - 1)
    return " ".join(f"{i * step:.1f},{height - (value - bottom) / span * height:.1f}"
                    for i, value in enumerate(values))


def latency_series(history: list[dict[str, Any]], name: str) -> list[float]:
    return [entry["checks"][name]["response_time_ms"] for entry in history if name in entry.get("checks", {})]


def key_details(name: str, result: CheckResult) -> list[tuple[str, Any]]:
    """The two or three figures an operator looks for first on each card."""
    details = result.details
    if name == "database" and "pool_size" in details:
        return [("pool in use", f"{details['checked_out']} / {details['pool_size']}"),
                ("overflow", details["overflow"])]
    if name == "redis" and details:
        return [("memory", details.get("used_memory_human")), ("eviction", details.get("maxmemory_policy"))]
    if name == "workers" and details:
        return [("live workers", details.get("live_workers")), ("queued", details.get("queued")),
                ("failed", details.get("failed"))]
    if name == "rabbitmq" and "reason" in details:
        return [("reason", details["reason"])]
    return []


def status_label(status_value: str) -> str:
    return status_value.replace("_", " ").lower() if status_value == "NOT_CONFIGURED" else status_value
