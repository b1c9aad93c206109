"""Draw a workflow's DAG as SVG on the server, inside a scrollable, zoomable viewport.

The layout (columns, lanes that carry long edges between boxes, crossing reduction) lives in
``dag_layout``; this module only writes markup. Colours come from CSS classes
(``dag-node status-<status>``, webapp/static/css/graph.css), never inline styles, so the CSP
can forbid them.

The SVG is drawn at its natural size inside ``<div class="dag-view">``, a focusable scroll
container: a 200-step graph keeps 13 px labels and is panned by scrolling or, once focused,
with the arrow keys, even without JavaScript. webapp/static/js/dag.js adds zoom buttons,
``+``/``-``/``0`` keys, Ctrl+wheel zoom and drag-to-pan.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence

from markupsafe import Markup, escape

from webapp.console.dag_layout import METRICS_HEIGHT, NODE_HEIGHT, NODE_WIDTH, Layout, Node, layout

__all__ = ["Layout", "Node", "layout", "render_svg"]


def _number(value: float) -> str:
    return f"{value:.1f}".removesuffix(".0")


def _path(points: Sequence[tuple[float, float]]) -> str:
    """Curves across the gaps between columns, straight lines through lanes inside them.

    Each curve keeps its control points between its ends' x, so it never leaves its gap.
    """
    x, y = points[0]
    parts = [f"M{_number(x)},{_number(y)}"]
    for index, (next_x, next_y) in enumerate(points[1:]):
        if index % 2 == 0:  # across a gap
            bend = (next_x - x) / 2
            parts.append(f"C{_number(x + bend)},{_number(y)} {_number(next_x - bend)},{_number(next_y)} "
                         f"{_number(next_x)},{_number(next_y)}")
        else:  # through a lane
            parts.append(f"L{_number(next_x)},{_number(next_y)}")
        x, y = next_x, next_y
    return " ".join(parts)


def _label(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _metrics(step_id: str, durations: Mapping[str, str], costs: Mapping[str, str]) -> str:
    return " · ".join(value for value in (durations.get(step_id), costs.get(step_id)) if value)


def render_svg(steps: Sequence[Mapping], statuses: Mapping[str, str] | None = None, *,
               link: str | None = None, durations: Mapping[str, str] | None = None,
               costs: Mapping[str, str] | None = None) -> Markup:
    """The DAG in its viewport; ``statuses`` colours each step, ``link`` (with ``{step}``) makes
    each box a link, e.g. to the step's section on the run page.

    ``durations`` and ``costs`` are the texts to print on a third line of each box (the run page
    passes them). They are text, formatted by the caller with the console's one duration and
    money format, so the graph never formats money its own way.
    """
    statuses, durations, costs = statuses or {}, durations or {}, costs or {}
    with_metrics = bool(durations or costs)
    placed = layout(steps, node_height=NODE_HEIGHT + (METRICS_HEIGHT if with_metrics else 0))
    role = 'role="group"' if link else 'role="img"'
    parts = [
        f'<div class="dag-view" tabindex="0" role="region" '
        f'aria-label="Workflow graph, {len(placed.nodes)} steps; scroll or use the arrow keys to pan">',
        f'<svg class="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {placed.width} {placed.height}" '
        f'width="{placed.width}" height="{placed.height}" {role} aria-label="Workflow graph">',
        '<defs><marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" class="dag-arrowhead"/></marker></defs>',
    ]
    for source, target in placed.edges:
        parts.append(f'<path class="dag-edge" d="{_path(placed.routes[(source, target)])}" '
                     f'marker-end="url(#dag-arrow)" data-from="{escape(source)}" data-to="{escape(target)}"/>')
    for node in placed.nodes.values():
        status = statuses.get(node.step_id, "")
        metrics = _metrics(node.step_id, durations, costs)
        title = " · ".join(part for part in (node.step_id, node.uses, status, metrics) if part)
        box = (f'<g class="dag-node status-{escape(status or "none")}" data-step="{escape(node.step_id)}" '
               f'data-status="{escape(status)}">'
               f"<title>{escape(title)}</title>"
               f'<rect x="{node.x}" y="{node.y}" width="{NODE_WIDTH}" height="{node.height}" rx="6"/>'
               f'<text x="{node.x + 10}" y="{node.y + 20}" class="dag-id">{escape(_label(node.step_id))}</text>'
               f'<text x="{node.x + 10}" y="{node.y + 37}" class="dag-uses">{escape(_label(node.uses))}</text>')
        if metrics:
            box += (f'<text x="{node.x + 10}" y="{node.y + 37 + METRICS_HEIGHT}" class="dag-metrics" '
                    f'data-testid="dag-metrics">{escape(_label(metrics, 26))}</text>')
        box += "</g>"
        if link:
            box = f'<a href="{escape(link.format(step=node.step_id))}">{box}</a>'
        parts.append(box)
    parts.append("</svg></div>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated value is escaped above)
