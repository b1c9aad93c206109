"""What the /health panel shows: a few key figures per component and latency sparklines.

The sparkline is an SVG polyline computed here, so the page needs no chart script and no
inline style (the CSP forbids both).
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from markupsafe import Markup, escape

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


SCALE_WIDTH, PLOT_WIDTH, PLOT_HEIGHT, PAD = 44, 150, 32, 4


def point_time(entry: dict[str, Any]) -> str:
    try:
        return datetime.fromisoformat(entry["checked_at"]).strftime("%H:%M:%S UTC")
    except (KeyError, TypeError, ValueError):
        return "unknown time"


def latency_sparkline(history: list[dict[str, Any]], name: str) -> Markup:
    """The component's latency over the kept history, with its scale (the lowest and highest
    figure, in ms, on the left) and a tooltip on every point giving its time and figure.
    Fewer than two points draw nothing: one point is not a trend."""
    entries = [entry for entry in history if name in entry.get("checks", {})]
    values = [float(entry["checks"][name]["response_time_ms"]) for entry in entries]
    if len(values) < 2:
        return Markup("")
    top, bottom = max(values), min(values)
    span = (top - bottom) or 1.0
    step = PLOT_WIDTH / (len(values) - 1)
    coords = [(SCALE_WIDTH + i * step, PAD + PLOT_HEIGHT - (value - bottom) / span * PLOT_HEIGHT)
              for i, value in enumerate(values)]
    width, height = SCALE_WIDTH + PLOT_WIDTH + PAD, PLOT_HEIGHT + 2 * PAD
    label = f"{name} latency over the last {len(values)} checks, from {bottom:.1f} to {top:.1f} ms"
    parts = [f'<svg class="sparkline" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="{escape(label)}" '
             f'data-min="{bottom:.1f}" data-max="{top:.1f}" data-points="{len(values)}">',
             f'<text class="scale" x="{SCALE_WIDTH - 4}" y="{PAD + 4}" text-anchor="end">{top:.1f} ms</text>',
             f'<text class="scale" x="{SCALE_WIDTH - 4}" y="{PAD + PLOT_HEIGHT}" text-anchor="end">'
             f'{bottom:.1f} ms</text>',
             f'<line class="baseline" x1="{SCALE_WIDTH}" x2="{SCALE_WIDTH + PLOT_WIDTH}" y1="{PAD + PLOT_HEIGHT}" '
             f'y2="{PAD + PLOT_HEIGHT}"/>',
             '<polyline points="' + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + '"/>']
    for (x, y), value, entry in zip(coords, values, entries, strict=True):
        parts.append(f'<circle class="spark-point" cx="{x:.1f}" cy="{y:.1f}" r="2">'
                     f'<title>{escape(point_time(entry))}: {value:.1f} ms</title></circle>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (numbers and escaped text only)


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
