"""The server-drawn DAG is valid SVG with one box per step and one arrow per need."""
import xml.etree.ElementTree as ET

import pytest

from webapp.console.dag_svg import layout, render_svg

SVG = "{http://www.w3.org/2000/svg}"

SINGLE = [{"id": "only", "uses": "template.render"}]
FAN_OUT = [{"id": "a", "uses": "x"}] + [{"id": f"b{n}", "uses": "x", "needs": ["a"]} for n in range(3)]
FAN_IN = FAN_OUT + [{"id": "join", "uses": "x", "needs": ["b0", "b1", "b2"]}]
DIAMOND_SKEW = [
    {"id": "a", "uses": "x"},
    {"id": "b", "uses": "x", "needs": ["a"]},
    {"id": "c", "uses": "x", "needs": ["b"]},
    {"id": "d", "uses": "x", "needs": ["a", "c"]},
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


@pytest.mark.parametrize("steps", [SINGLE, FAN_OUT, FAN_IN, DIAMOND_SKEW], ids=["single", "fan-out", "fan-in", "skew"])
def test_svg_is_valid_with_a_box_per_step_and_an_arrow_per_need(steps):
    root = parse(render_svg(steps))
    assert root.tag == f"{SVG}svg"
    boxes = root.findall(f".//{SVG}g")
    assert sorted(box.get("data-step") for box in boxes) == sorted(step["id"] for step in steps)
    edges = root.findall(f"./{SVG}path")
    assert len(edges) == sum(len(step.get("needs", [])) for step in steps)


def test_a_step_sits_right_of_its_deepest_dependency():
    nodes = layout(DIAMOND_SKEW).nodes
    assert [nodes[s].column for s in "abcd"] == [0, 1, 2, 3]


def test_fan_out_stacks_siblings_in_one_column():
    nodes = layout(FAN_IN).nodes
    assert {nodes[f"b{n}"].column for n in range(3)} == {1}
    assert sorted(nodes[f"b{n}"].row for n in range(3)) == [0, 1, 2]
    assert nodes["join"].column == 2


def test_boxes_never_overlap():
    nodes = list(layout(FAN_IN).nodes.values())
    positions = {(node.x, node.y) for node in nodes}
    assert len(positions) == len(nodes)


def test_statuses_become_css_classes_not_inline_styles():
    svg = str(render_svg(FAN_OUT, {"a": "succeeded", "b0": "failed"}))
    root = parse(svg)
    classes = {box.get("data-step"): box.get("class") for box in root.iter(f"{SVG}g")}
    assert classes["a"] == "dag-node status-succeeded"
    assert classes["b0"] == "dag-node status-failed"
    assert classes["b1"] == "dag-node status-none"
    assert "style=" not in svg


def test_text_is_escaped():
    svg = str(render_svg([{"id": "x", "uses": "<script>alert(1)</script>"}]))
    assert "<script>" not in svg
    parse(svg)


def test_boxes_can_link_to_their_step():
    root = parse(render_svg(SINGLE, link="#step-{step}"))
    assert root.find(f".//{SVG}a").get("href") == "#step-only"
