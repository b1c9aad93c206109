"""Draw a workflow's DAG as SVG on the server: layered layout, one box per step, arrows for needs.

Layers are longest-path depths (a step sits one column right of its deepest dependency), the
way Airflow's graph view reads left to right. Within a column steps are ordered by the mean
row of their dependencies (one barycenter pass), which removes most crossings for the
fan-out/fan-in shapes workflows have, at no measurable cost. Colours come from CSS classes
(``dag-node status-<status>``), never inline styles, so the CSP can forbid them.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

NODE_WIDTH, NODE_HEIGHT = 168, 48
COLUMN_GAP, ROW_GAP, MARGIN = 56, 20, 12


@dataclass(frozen=True)
class Node:
    step_id: str
    uses: str
    column: int
    row: int

    @property
    def x(self) -> int:
        return MARGIN + self.column * (NODE_WIDTH + COLUMN_GAP)

    @property
    def y(self) -> int:
        return MARGIN + self.row * (NODE_HEIGHT + ROW_GAP)


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Node]
    edges: list[tuple[str, str]]
    width: int
    height: int


def layout(steps: Sequence[Mapping]) -> Layout:
    """Place steps (dicts with ``id``, ``uses`` and optional ``needs``) given in a valid order."""
    depth: dict[str, int] = {}
    for step in steps:  # definitions list a step after everything it needs
        depth[step["id"]] = 1 + max((depth[need] for need in step.get("needs", [])), default=-1)
    columns: dict[int, list[Mapping]] = {}
    for step in steps:
        columns.setdefault(depth[step["id"]], []).append(step)
    row_of: dict[str, float] = {}
    nodes: dict[str, Node] = {}
    for column in sorted(columns):
        members = columns[column]
        if column > 0:
            members = sorted(members, key=lambda s: sum(row_of[n] for n in s["needs"]) / len(s["needs"]))
        for row, step in enumerate(members):
            row_of[step["id"]] = row
            nodes[step["id"]] = Node(step["id"], step.get("uses", ""), column, row)
    edges = [(need, step["id"]) for step in steps for need in step.get("needs", [])]
    width = MARGIN * 2 + len(columns) * NODE_WIDTH + max(len(columns) - 1, 0) * COLUMN_GAP
    rows = max((len(members) for members in columns.values()), default=0)
    height = MARGIN * 2 + rows * NODE_HEIGHT + max(rows - 1, 0) * ROW_GAP
    return Layout(nodes, edges, width, height)


def _edge_path(source: Node, target: Node) -> str:
    x1, y1 = source.x + NODE_WIDTH, source.y + NODE_HEIGHT // 2
    x2, y2 = target.x - 4, target.y + NODE_HEIGHT // 2
    bend = (x2 - x1) // 2
    return f"M{x1},{y1} C{x1 + bend},{y1} {x2 - bend},{y2} {x2},{y2}"


def _label(text: str, limit: int = 22) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def render_svg(steps: Sequence[Mapping], statuses: Mapping[str, str] | None = None, *,
               link: str | None = None) -> Markup:
    """The DAG as an inline ``<svg>``; ``statuses`` colours each step, ``link`` (with ``{step}``)
    makes each box a link, e.g. to the step's section on the run page."""
    placed = layout(steps)
    statuses = statuses or {}
    parts = [
        f'<svg class="dag" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {placed.width} {placed.height}" '
        f'width="{placed.width}" height="{placed.height}" role="img" aria-label="Workflow graph">',
        '<defs><marker id="dag-arrow" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="8" markerHeight="8" '
        'orient="auto"><path d="M0,0 L8,4 L0,8 z" class="dag-arrowhead"/></marker></defs>',
    ]
    for source, target in placed.edges:
        parts.append(f'<path class="dag-edge" d="{_edge_path(placed.nodes[source], placed.nodes[target])}" '
                     f'marker-end="url(#dag-arrow)" data-from="{escape(source)}" data-to="{escape(target)}"/>')
    for node in placed.nodes.values():
        status = statuses.get(node.step_id, "")
        box = (f'<g class="dag-node status-{escape(status or "none")}" data-step="{escape(node.step_id)}" '
               f'data-status="{escape(status)}">'
               f"<title>{escape(node.step_id)} · {escape(node.uses)}{' · ' + escape(status) if status else ''}</title>"
               f'<rect x="{node.x}" y="{node.y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="6"/>'
               f'<text x="{node.x + 10}" y="{node.y + 20}" class="dag-id">{escape(_label(node.step_id))}</text>'
               f'<text x="{node.x + 10}" y="{node.y + 37}" class="dag-uses">{escape(_label(node.uses))}</text></g>')
        if link:
            box = f'<a href="{escape(link.format(step=node.step_id))}">{box}</a>'
        parts.append(box)
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated value is escaped above)
