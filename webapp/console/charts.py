"""A stacked bar chart of runs over time, drawn as SVG on the server.

Why not Chart.js: the chart must redraw inside an htmx fragment every few seconds, work with a
CSP that forbids inline script, and read well to a screen reader. A server-drawn SVG does all
three with no script at all: each bar segment is a ``<rect>`` coloured by the same status
classes as the chips, with a ``<title>`` that browsers show as the tooltip and screen readers
read, like the run timeline and the DAG. (The costs dashboard's interactive charts use the
vendored Chart.js; a chart that is redrawn by polling is better as plain markup.)
"""
from __future__ import annotations

from datetime import datetime

from markupsafe import Markup, escape

from webapp.console.overview import Bucket

WIDTH, HEIGHT = 720, 180
LEFT, BOTTOM, TOP = 34, 18, 8
# bottom to top: the statuses an operator scans for first sit on the baseline
STACK_ORDER = ("failed", "cancelled", "paused", "running", "queued", "succeeded")


def nice_ceiling(value: int) -> int:
    """The smallest 1, 2 or 5 times a power of ten at or above ``value`` (at least 1)."""
    ceiling = 1
    while True:
        for factor in (1, 2, 5):
            if ceiling * factor >= value:
                return ceiling * factor
        ceiling *= 10


def label_time(moment: datetime, window: str) -> str:
    return moment.strftime("%H:%M") if window == "24h" else moment.strftime("%a %H:%M")


def stacked_runs_chart(buckets: list[Bucket], window: str) -> Markup:
    top = nice_ceiling(max((bucket.total for bucket in buckets), default=0))
    plot_w, plot_h = WIDTH - LEFT, HEIGHT - BOTTOM - TOP
    slot = plot_w / max(len(buckets), 1)
    bar = max(slot * 0.78, 1.0)
    parts = [f'<svg class="runs-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
             f'role="img" aria-labelledby="runs-chart-title" data-window="{window}" data-max="{top}">',
             f'<title id="runs-chart-title">Runs per {"hour" if window == "24h" else "6 hours"}, stacked by status, '
             f'last {"24 hours" if window == "24h" else "7 days"}; scale 0 to {top}</title>']
    for fraction in (0, 0.5, 1):
        y = TOP + plot_h * (1 - fraction)
        parts.append(f'<line class="gridline" x1="{LEFT}" x2="{WIDTH}" y1="{y:.1f}" y2="{y:.1f}"/>')
        if float(top * fraction).is_integer():
            parts.append(f'<text class="tick" x="{LEFT - 4}" y="{y + 3:.1f}" text-anchor="end">'
                         f'{int(top * fraction)}</text>')
    every = 6 if window == "24h" else 4
    for index, bucket in enumerate(buckets):
        x = LEFT + index * slot + (slot - bar) / 2
        y = TOP + plot_h
        segments = [(status, bucket.counts.get(status, 0)) for status in STACK_ORDER]
        span = f"{label_time(bucket.start, window)}–{label_time(bucket.end, window)} UTC"
        for status, count in segments:
            if not count:
                continue
            height = plot_h * count / top
            y -= height
            parts.append(f'<rect class="bar status-{status}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                         f'height="{height:.1f}" data-status="{status}" data-count="{count}">'
                         f'<title>{escape(span)}: {count} {status}</title></rect>')
        if index % every == 0:
            parts.append(f'<text class="axis" x="{x:.1f}" y="{HEIGHT - 4}">'
                         f'{escape(label_time(bucket.start, window))}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (numbers, fixed words and escaped labels only)
