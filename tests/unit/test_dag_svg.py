"""The server-drawn DAG: valid SVG, one box per step and one arrow per need, and arrows that
never pass behind a box that is not one of their two ends."""
import json
import random
import re
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import pytest

from webapp.console.dag_svg import layout, render_svg

SVG = "{http://www.w3.org/2000/svg}"
ROOT = Path(__file__).resolve().parents[2]

SINGLE = [{"id": "only", "uses": "template.render"}]
FAN_OUT = [{"id": "a", "uses": "x"}] + [{"id": f"b{n}", "uses": "x", "needs": ["a"]} for n in range(3)]
FAN_IN = FAN_OUT + [{"id": "join", "uses": "x", "needs": ["b0", "b1", "b2"]}]
DIAMOND_SKEW = [
    {"id": "a", "uses": "x"},
    {"id": "b", "uses": "x", "needs": ["a"]},
    {"id": "c", "uses": "x", "needs": ["b"]},
    {"id": "d", "uses": "x", "needs": ["a", "c"]},
]
HELLO = json.loads((ROOT / "examples" / "hello.json").read_text())["steps"]


def random_dag(size: int, seed: int, *, max_needs: int = 3, reach: int = 12) -> list[dict]:
    """Steps in definition order, each needing up to ``max_needs`` of the ``reach`` steps before it."""
    rng = random.Random(seed)
    steps = []
    for index in range(size):
        earlier = [f"s{i}" for i in range(max(0, index - reach), index)]
        needs = rng.sample(earlier, rng.randint(0, min(max_needs, len(earlier)))) if earlier else []
        steps.append({"id": f"s{index}", "uses": "template.render", "needs": needs})
    return steps


def parse(markup) -> ET.Element:
    """The ``<svg>`` inside the viewport ``<div>``."""
    root = ET.fromstring(str(markup))
    assert root.tag == "div" and "dag-view" in root.get("class")
    return root.find(f"{SVG}svg")


def path_points(d: str, samples: int = 24) -> list[tuple[float, float]]:
    """A polyline through an SVG path of M, L and C commands (cubic curves sampled)."""
    tokens = re.findall(r"[MLC]|-?\d+(?:\.\d+)?", d)
    points: list[tuple[float, float]] = []
    index = 0
    while index < len(tokens):
        command = tokens[index]
        index += 1
        if command in "ML":
            points.append((float(tokens[index]), float(tokens[index + 1])))
            index += 2
        else:
            (x0, y0), controls = points[-1], [float(t) for t in tokens[index:index + 6]]
            index += 6
            (x1, y1), (x2, y2), (x3, y3) = zip(controls[0::2], controls[1::2], strict=True)
            for step in range(1, samples + 1):
                t = step / samples
                a, b, c, e = (1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3
                points.append((a * x0 + b * x1 + c * x2 + e * x3, a * y0 + b * y1 + c * y2 + e * y3))
    return points


def crosses(start, end, box) -> bool:
    """Whether the segment enters the box's interior (Liang-Barsky clipping)."""
    (x0, y0), (x1, y1) = start, end
    left, top, right, bottom = box
    low, high = 0.0, 1.0
    for p, q in ((-(x1 - x0), x0 - left), (x1 - x0, right - x0), (-(y1 - y0), y0 - top), (y1 - y0, bottom - y0)):
        if p == 0:
            if q <= 0:
                return False
        else:
            t = q / p
            if p < 0:
                low = max(low, t)
            else:
                high = min(high, t)
            if low >= high:
                return False
    return True


def edges_crossing_foreign_boxes(steps) -> list[tuple[str, str, str]]:
    svg = parse(render_svg(steps))
    boxes = {}
    for group in svg.iter(f"{SVG}g"):
        rect = group.find(f"{SVG}rect")
        x, y, w, h = (float(rect.get(k)) for k in ("x", "y", "width", "height"))
        boxes[group.get("data-step")] = (x + 0.5, y + 0.5, x + w - 0.5, y + h - 0.5)
    found = []
    for edge in svg.findall(f"{SVG}path[@class='dag-edge']"):
        ends = {edge.get("data-from"), edge.get("data-to")}
        points = path_points(edge.get("d"))
        for step, box in boxes.items():
            if step not in ends and any(crosses(a, b, box) for a, b in pairwise(points)):
                found.append((edge.get("data-from"), edge.get("data-to"), step))
    return found


@pytest.mark.parametrize("steps", [SINGLE, FAN_OUT, FAN_IN, DIAMOND_SKEW, HELLO],
                         ids=["single", "fan-out", "fan-in", "skew", "hello"])
def test_svg_is_valid_with_a_box_per_step_and_an_arrow_per_need(steps):
    svg = parse(render_svg(steps))
    boxes = svg.findall(f".//{SVG}g")
    assert sorted(box.get("data-step") for box in boxes) == sorted(step["id"] for step in steps)
    edges = svg.findall(f"./{SVG}path")
    assert len(edges) == sum(len(step.get("needs", [])) for step in steps)


def test_the_geometry_check_sees_an_edge_drawn_through_a_box():
    box = (100, 100, 200, 150)
    assert crosses((50, 120), (250, 120), box)
    assert not crosses((50, 90), (250, 90), box)
    assert not crosses((50, 120), (99, 120), box)
    points = path_points("M0,0 C50,0 50,125 100,125 L300,125")
    assert any(crosses(a, b, (150, 100, 250, 150)) for a, b in pairwise(points))


def test_hello_answer_to_report_goes_around_count_not_behind_it():
    assert edges_crossing_foreign_boxes(HELLO) == []
    nodes = layout(HELLO).nodes
    assert nodes["answer"].column + 2 == nodes["report"].column  # the edge does skip count's column


@pytest.mark.parametrize("steps", [FAN_IN, DIAMOND_SKEW] + [random_dag(size, seed) for size, seed in
                                   [(8, 1), (15, 2), (30, 3), (40, 4), (60, 5), (60, 6), (90, 7)]],
                         ids=lambda steps: f"{len(steps)}-steps")
def test_no_edge_segment_crosses_a_box_that_is_not_its_own_end(steps):
    assert edges_crossing_foreign_boxes(steps) == []


def test_a_200_step_dag_is_drawn_without_edges_behind_boxes_and_with_readable_labels():
    steps = random_dag(200, 42, max_needs=3, reach=30)
    assert edges_crossing_foreign_boxes(steps) == []
    svg = parse(render_svg(steps))
    # drawn at natural size (the viewport scrolls), so labels keep their 13 px
    assert svg.get("width") == svg.get("viewBox").split()[2]


def test_a_step_sits_right_of_its_deepest_dependency():
    nodes = layout(DIAMOND_SKEW).nodes
    assert [nodes[s].column for s in "abcd"] == [0, 1, 2, 3]


def test_steps_listed_before_their_needs_are_placed_the_same():
    nodes = layout(list(reversed(DIAMOND_SKEW))).nodes
    assert [nodes[s].column for s in "abcd"] == [0, 1, 2, 3]


def test_fan_out_stacks_siblings_in_one_column():
    nodes = layout(FAN_IN).nodes
    assert {nodes[f"b{n}"].column for n in range(3)} == {1}
    assert sorted(nodes[f"b{n}"].row for n in range(3)) == [0, 1, 2]
    assert nodes["join"].column == 2


@pytest.mark.parametrize("steps", [FAN_IN, random_dag(120, 9)], ids=["fan-in", "random-120"])
def test_boxes_never_overlap(steps):
    nodes = list(layout(steps).nodes.values())
    for a in nodes:
        for b in nodes:
            if a is not b and a.column == b.column:
                assert a.y + a.height <= b.y or b.y + b.height <= a.y, (a, b)


def test_crossing_edges_are_untangled():
    # b1 is listed first but feeds the lower target; the sweep puts the boxes in the order of their edges
    steps = [{"id": "a0", "uses": "x"}, {"id": "a1", "uses": "x"},
             {"id": "b1", "uses": "x", "needs": ["a1"]}, {"id": "b0", "uses": "x", "needs": ["a0"]}]
    nodes = layout(steps).nodes
    assert (nodes["a0"].row < nodes["a1"].row) == (nodes["b0"].row < nodes["b1"].row)


def test_statuses_become_css_classes_not_inline_styles():
    markup = str(render_svg(FAN_OUT, {"a": "succeeded", "b0": "failed"}))
    classes = {box.get("data-step"): box.get("class") for box in parse(markup).iter(f"{SVG}g")}
    assert classes["a"] == "dag-node status-succeeded"
    assert classes["b0"] == "dag-node status-failed"
    assert classes["b1"] == "dag-node status-none"
    assert "style=" not in markup


def test_duration_and_cost_are_printed_on_the_nodes_that_have_them():
    svg = parse(render_svg(FAN_OUT, durations={"a": "1.2 s", "b0": "40 ms"}, costs={"a": "$0.0123"}))
    metrics = {group.get("data-step"): group.find(f"{SVG}text[@class='dag-metrics']")
               for group in svg.iter(f"{SVG}g")}
    assert metrics["a"].text == "1.2 s · $0.0123"
    assert metrics["b0"].text == "40 ms"
    assert metrics["b1"] is None
    assert {rect.get("height") for rect in svg.iter(f"{SVG}rect")} == {"64"}  # room for the third line


def test_without_metrics_the_boxes_keep_two_lines():
    svg = parse(render_svg(FAN_OUT))
    assert {rect.get("height") for rect in svg.iter(f"{SVG}rect")} == {"48"}
    assert svg.find(f".//{SVG}text[@class='dag-metrics']") is None


def test_text_is_escaped():
    markup = str(render_svg([{"id": "x", "uses": "<script>alert(1)</script>"}],
                            durations={"x": "<b>1 s</b>"}))
    assert "<script>" not in markup and "<b>" not in markup
    parse(markup)


def test_boxes_can_link_to_their_step():
    svg = parse(render_svg(SINGLE, link="#step-{step}"))
    assert svg.find(f".//{SVG}a").get("href") == "#step-only"


def test_the_viewport_is_focusable_so_the_keyboard_can_pan_it():
    root = ET.fromstring(str(render_svg(FAN_IN)))
    assert root.get("tabindex") == "0" and root.get("role") == "region"
    assert "5 steps" in root.get("aria-label")
