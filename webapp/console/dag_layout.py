"""Where each step of a DAG goes, and the path each ``needs`` arrow takes: a layered (Sugiyama) layout.

1. **Layers.** A step sits one column right of its deepest dependency (longest path), so the
   graph reads left to right like Airflow's and Dagster's.
2. **Lanes.** An edge that skips columns gets a *lane* in every column it crosses: a thin slot
   stacked between the boxes like a small node. The edge runs through its lanes, so it passes
   between boxes and never behind one (in ``examples/hello.json`` the ``answer -> report`` edge
   used to hide behind ``count``). Between two columns an edge is a curve inside the gap, where
   no box is; inside a column it is a straight line through its lane. So no edge can cross a
   box that is not its own end, by construction; tests/unit/test_dag_svg.py checks it on random
   and 200-step DAGs.
3. **Order.** Boxes and lanes in a column are sorted by the mean position of their neighbours
   (barycenter), sweeping right and left a few times and keeping the order with the fewest
   crossings.
4. **Height.** Each item wants the mean height of its neighbours (straight edges); the nearest
   placement that keeps the order and the spacing is an isotonic regression, solved exactly by
   pool-adjacent-violators, in three passes (right, left, right).

Each pass is linear or quadratic in a column's size; the bench figures are in docs/workflow-editor.md.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise

NODE_WIDTH, NODE_HEIGHT, METRICS_HEIGHT = 168, 48, 16
COLUMN_GAP, ROW_GAP, LANE_HEIGHT, LANE_GAP, MARGIN = 64, 20, 8, 6, 12
ARROW_GAP = 4  # the arrowhead's tip stops this far short of the box
SWEEPS = 6
LANE_WEIGHT = 4  # long edges pull harder toward a straight line than boxes do

Point = tuple[float, float]
Item = str | tuple[int, int]  # a step id, or (edge index, column) for a lane


@dataclass(frozen=True)
class Node:
    step_id: str
    uses: str
    column: int
    row: int  # among the boxes of its column, top to bottom
    x: int
    y: int
    height: int = NODE_HEIGHT

    @property
    def right(self) -> int:
        return self.x + NODE_WIDTH


@dataclass(frozen=True)
class Layout:
    nodes: dict[str, Node]
    edges: list[tuple[str, str]]
    routes: dict[tuple[str, str], tuple[Point, ...]]  # start, (lane entry, lane exit)..., end
    width: int
    height: int


def column_x(column: int) -> int:
    return MARGIN + column * (NODE_WIDTH + COLUMN_GAP)


def _depths(steps: Sequence[Mapping]) -> dict[str, int]:
    """Longest-path column of each step, whatever order the definition lists them in."""
    needs = {step["id"]: [need for need in step.get("needs", [])] for step in steps}
    depth: dict[str, int] = {}
    waiting = list(needs)
    while waiting:
        progressed = [sid for sid in waiting if all(need in depth for need in needs[sid])]
        if not progressed:
            raise ValueError("needs form a cycle or name an unknown step")
        for sid in progressed:
            depth[sid] = 1 + max((depth[need] for need in needs[sid]), default=-1)
        waiting = [sid for sid in waiting if sid not in depth]
    return depth


Shape = tuple[tuple[str, str, tuple[str, ...]], ...]


def layout(steps: Sequence[Mapping], *, node_height: int = NODE_HEIGHT) -> Layout:
    """Place steps (dicts with ``id``, ``uses`` and optional ``needs``) of a valid definition.

    The result depends only on the steps' shape, so it is cached: a run page that polls a
    200-step graph redraws only the SVG (statuses), not the layout. Treat it as read-only.
    """
    shape = tuple((step["id"], step.get("uses", ""), tuple(step.get("needs", []))) for step in steps)
    return _layout(shape, node_height)


@lru_cache(maxsize=128)
def _layout(shape: Shape, node_height: int) -> Layout:
    steps = [{"id": sid, "uses": uses, "needs": list(needs)} for sid, uses, needs in shape]
    depth = _depths(steps)
    edges = [(need, step["id"]) for step in steps for need in step.get("needs", [])]
    count = max(depth.values(), default=-1) + 1
    columns: list[list[Item]] = [[] for _ in range(count)]
    for step in steps:
        columns[depth[step["id"]]].append(step["id"])
    preds: dict[Item, list[Item]] = {item: [] for column in columns for item in column}
    succs: dict[Item, list[Item]] = {item: [] for column in columns for item in column}
    chains: list[list[Item]] = []
    for index, (source, target) in enumerate(edges):
        chain: list[Item] = [source, *((index, c) for c in range(depth[source] + 1, depth[target])), target]
        for item in chain[1:-1]:
            columns[item[1]].append(item)
            preds[item], succs[item] = [], []
        for left, right in pairwise(chain):
            succs[left].append(right)
            preds[right].append(left)
        chains.append(chain)
    columns = _order(columns, preds, succs)
    heights = {item: LANE_HEIGHT if isinstance(item, tuple) else node_height for column in columns for item in column}
    centers = _place(columns, preds, succs, heights)
    top = min((centers[item] - heights[item] / 2 for item in centers), default=0.0)
    shift = MARGIN - top
    nodes: dict[str, Node] = {}
    uses = {step["id"]: step.get("uses", "") for step in steps}
    for number, column in enumerate(columns):
        boxes = [item for item in column if isinstance(item, str)]
        for row, sid in enumerate(boxes):
            nodes[sid] = Node(sid, uses[sid], number, row, column_x(number),
                              round(centers[sid] + shift - node_height / 2), node_height)
    lanes = {item: round(centers[item] + shift) for item in centers if isinstance(item, tuple)}
    routes = _routes(edges, chains, nodes, lanes)
    width = MARGIN * 2 + count * NODE_WIDTH + max(count - 1, 0) * COLUMN_GAP
    bottom = max((centers[item] + shift + heights[item] / 2 for item in centers), default=0.0)
    return Layout(nodes, edges, routes, width, round(bottom) + MARGIN)


def _order(columns: list[list[Item]], preds: dict, succs: dict) -> list[list[Item]]:
    best = [list(column) for column in columns]
    fewest = _crossings(best, succs)
    current = [list(column) for column in columns]
    for _ in range(SWEEPS):
        if not fewest:
            break
        for number in range(1, len(current)):
            _sort_by_neighbours(current[number], current[number - 1], preds)
        for number in range(len(current) - 2, -1, -1):
            _sort_by_neighbours(current[number], current[number + 1], succs)
        crossings = _crossings(current, succs)
        if crossings < fewest:
            best, fewest = [list(column) for column in current], crossings
    return best


def _sort_by_neighbours(column: list[Item], neighbours: list[Item], links: dict) -> None:
    """Barycenter sort; an item with no neighbour there keeps its relative place."""
    position = {item: index for index, item in enumerate(neighbours)}
    scale = len(neighbours) / max(len(column), 1)
    keys = {}
    for index, item in enumerate(column):
        linked = [position[other] for other in links[item]]
        keys[item] = sum(linked) / len(linked) if linked else index * scale
    column.sort(key=keys.__getitem__)


def _crossings(columns: list[list[Item]], succs: dict) -> int:
    """Edge crossings between neighbouring columns: inversions of the targets' positions once
    edges are sorted by source, counted with a Fenwick tree (E log V, not E squared)."""
    total = 0
    for left, right in pairwise(columns):
        position = {item: index for index, item in enumerate(right)}
        targets = [target for _, target in sorted((i, position[other]) for i, item in enumerate(left)
                                                  for other in succs[item])]
        tree = [0] * (len(right) + 1)
        for seen, target in enumerate(targets):
            index, at_most = target + 1, 0
            while index > 0:
                at_most += tree[index]
                index -= index & -index
            total += seen - at_most  # earlier edges that end lower cross this one
            index = target + 1
            while index <= len(right):
                tree[index] += 1
                index += index & -index
    return total


def _gap(upper: Item, lower: Item) -> int:
    return LANE_GAP if isinstance(upper, tuple) or isinstance(lower, tuple) else ROW_GAP


def _place(columns: list[list[Item]], preds: dict, succs: dict, heights: dict) -> dict[Item, float]:
    offsets: dict[Item, float] = {}
    for column in columns:
        offset = 0.0
        for index, item in enumerate(column):
            if index:
                previous = column[index - 1]
                offset += heights[previous] / 2 + _gap(previous, item) + heights[item] / 2
            offsets[item] = offset
    centers = dict(offsets)
    passes = [(range(1, len(columns)), preds), (range(len(columns) - 2, -1, -1), succs),
              (range(1, len(columns)), preds)]
    for numbers, links in passes:
        for number in numbers:
            column = columns[number]
            wanted = [sum(centers[other] for other in links[item]) / len(links[item]) if links[item]
                      else centers[item] for item in column]
            weights = [LANE_WEIGHT if isinstance(item, tuple) else 1 for item in column]
            fitted = _isotonic([w - offsets[item] for w, item in zip(wanted, column, strict=True)], weights)
            for item, value in zip(column, fitted, strict=True):
                centers[item] = value + offsets[item]
    return centers


def _isotonic(values: list[float], weights: list[int]) -> list[float]:
    """The non-decreasing sequence nearest to ``values`` (weighted least squares), by pooling."""
    blocks: list[list[float]] = []  # [weighted sum, weight, count]
    for value, weight in zip(values, weights, strict=True):
        blocks.append([value * weight, weight, 1])
        while len(blocks) > 1 and blocks[-2][0] / blocks[-2][1] > blocks[-1][0] / blocks[-1][1]:
            total, weight_sum, count = blocks.pop()
            blocks[-1][0] += total
            blocks[-1][1] += weight_sum
            blocks[-1][2] += count
    fitted: list[float] = []
    for total, weight_sum, count in blocks:
        fitted += [total / weight_sum] * int(count)
    return fitted


def _routes(edges, chains, nodes: dict[str, Node], lanes: dict) -> dict[tuple[str, str], tuple[Point, ...]]:
    """Waypoints per edge; ports spread along a box's side, ordered by where the other end is."""
    def lane_or_box_y(item: Item) -> float:
        return lanes[item] if isinstance(item, tuple) else nodes[item].y + nodes[item].height / 2

    outgoing: dict[str, list[int]] = {}
    incoming: dict[str, list[int]] = {}
    for index, chain in enumerate(chains):
        outgoing.setdefault(chain[0], []).append(index)
        incoming.setdefault(chain[-1], []).append(index)
    out_port: dict[int, float] = {}
    in_port: dict[int, float] = {}
    for sid, indexes in outgoing.items():
        indexes.sort(key=lambda i: lane_or_box_y(chains[i][1]))
        out_port.update(_ports(nodes[sid], indexes))
    for sid, indexes in incoming.items():
        indexes.sort(key=lambda i: lane_or_box_y(chains[i][-2]))
        in_port.update(_ports(nodes[sid], indexes))
    routes = {}
    for index, ((source, target), chain) in enumerate(zip(edges, chains, strict=True)):
        points: list[Point] = [(nodes[source].right, out_port[index])]
        for lane in chain[1:-1]:
            points += [(column_x(lane[1]), lanes[lane]), (column_x(lane[1]) + NODE_WIDTH, lanes[lane])]
        points.append((nodes[target].x - ARROW_GAP, in_port[index]))
        routes[(source, target)] = tuple(points)
    return routes


def _ports(node: Node, indexes: list[int]) -> dict[int, float]:
    middle = node.y + node.height / 2
    spacing = min(8.0, (node.height - 16) / max(len(indexes) - 1, 1))
    return {index: middle + (rank - (len(indexes) - 1) / 2) * spacing for rank, index in enumerate(indexes)}
