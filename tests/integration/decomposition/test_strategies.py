"""Each strategy: explicit with nested children, the template patterns, llm (offline and malformed)."""
from __future__ import annotations

import json

import pytest

from webapp.decomposition import service, strategies
from webapp.steps.llm_providers import Completion


def leaf(task_id, **fields):
    return {"id": task_id, "uses": "template.render", "with": {"template": task_id}, **fields}


def test_explicit_children_run_before_their_parent_and_inherit_its_dependencies(db):
    tree = {"tasks": [
        leaf("fetch"),
        {"id": "report", "title": "Write the report", "depends_on": ["fetch"], "children": [
            leaf("intro"),
            {"id": "body", "children": [leaf("part1"), leaf("part2", depends_on=["part1"])]},
        ]},
        leaf("publish", depends_on=["report"]),
    ]}
    analysis = service.analyse("a report", "explicit", tree)
    assert analysis.errors == []
    needs = {step["id"]: step["needs"] for step in analysis.steps}
    assert needs == {"fetch": [], "intro": ["fetch"], "part1": ["fetch"], "part2": ["part1", "fetch"],
                     "body": ["fetch", "part1", "part2"], "report": ["fetch", "intro", "body"],
                     "publish": ["report"]}
    parent = next(step for step in analysis.steps if step["id"] == "report")
    assert parent["uses"] == "template.render" and parent["name"] == "Write the report"
    assert parent["with"] == {"template": "{{ [steps.intro.output, steps.body.output] }}"}
    assert analysis.plan["levels"] == [["fetch"], ["intro", "part1"], ["part2"], ["body"], ["report"], ["publish"]]


def test_map_reduce_over_40_items_maps_each_item_in_parallel_then_reduces_them_in_order(db):
    items = [f"doc-{index}" for index in range(40)]
    raw = {"pattern": "map_reduce", "params": {
        "items": items,
        "map": {"uses": "llm.complete", "with": {"model": "local-small", "prompt": "Summarise {{ item }}"}},
        "reduce": {"uses": "template.render", "with": {"template": "{{ outputs }}"}}}}
    analysis = service.analyse("summarise 40 documents", "template", raw)
    assert analysis.errors == []
    maps = [step for step in analysis.steps if step["id"].startswith("map_")]
    assert [step["id"] for step in maps] == [f"map_{index:02d}" for index in range(1, 41)]
    assert [step["with"]["prompt"] for step in maps] == [f"Summarise doc-{index}" for index in range(40)]
    reduce = analysis.steps[-1]
    assert reduce["id"] == "reduce" and reduce["needs"] == [step["id"] for step in maps]
    assert reduce["with"]["template"] == "{{ [" + ", ".join(f"steps.{s['id']}.output" for s in maps) + "] }}"
    plan = analysis.plan
    assert plan["task_count"] == 41 and plan["max_parallelism"] == 40 and len(plan["levels"]) == 2
    assert plan["unbounded_tasks"] == 0 and plan["estimated_cost"] != "0.00000000"


def test_an_exact_item_placeholder_becomes_the_item_itself(db):
    raw = {"pattern": "map_reduce", "params": {"items": [{"n": 1}, 2],
                                               "map": {"uses": "python.call",
                                                       "with": {"function": "echo", "args": ["{{ item }}"]}}}}
    tree = strategies.build_tree("template", "g", raw)
    assert [task["with"]["args"] for task in tree["tasks"][:2]] == [[{"n": 1}], [2]]


def test_fan_out_fan_in_pipeline_and_review_loop_have_their_shapes(db):
    fan = service.analyse("compare", "template", {"pattern": "fan_out_fan_in", "params": {"branches": [
        {"uses": "template.render", "with": {"template": "a"}},
        {"uses": "template.render", "with": {"template": "b"}}]}})
    assert fan.errors == [] and fan.plan["levels"] == [["branch_1", "branch_2"], ["join"]]
    pipe = service.analyse("etl", "template", {"pattern": "pipeline", "params": {"stages": [
        {"uses": "template.render", "with": {"template": "raw"}},
        {"uses": "template.render", "with": {"template": "clean {{ previous }}"}}]}})
    assert pipe.errors == [] and pipe.plan["critical_path"] == ["stage_1", "stage_2"]
    assert pipe.steps[1]["with"]["template"] == "clean {{ steps.stage_1.output }}"
    loop = service.analyse("an essay", "template", {"pattern": "review_loop", "params": {"rounds": 2}})
    assert loop.errors == []
    assert loop.plan["critical_path"] == ["draft", "review_1", "revise_1", "review_2", "revise_2"]
    assert "{{ steps.review_1.output.text }}" in loop.steps[2]["with"]["prompt"]


@pytest.mark.parametrize("raw,field", [
    ({"pattern": "nope"}, "input.pattern"),
    ({"pattern": "map_reduce", "params": {"items": []}}, "input.params.items"),
    ({"pattern": "map_reduce", "params": {"items": [1], "map": {"uses": 3}}}, "input.params.map"),
    ({"pattern": "review_loop", "params": {"rounds": 9}}, "input.params.rounds"),
    ("- just\n- a list", "input"),
])
def test_bad_template_input_names_the_parameter(db, raw, field):
    assert field in {error.field for error in service.analyse("g", "template", raw).errors}


def test_llm_with_the_local_provider_splits_the_goal_the_same_way_every_time(db):
    goal = "Research three vendors, compare them and then recommend one"
    first = service.analyse(goal, "llm", {})
    second = service.analyse(goal, "llm", {"model": "local-small"})
    assert first.errors == [] and first.steps == second.steps
    assert [step["id"] for step in first.steps] == ["t1_research_three_vendors", "t2_compare_them",
                                                   "t3_recommend_one"]
    assert first.plan["critical_path"] == [step["id"] for step in first.steps]
    assert all(step["uses"] == "llm.complete" for step in first.steps)


class FakeProvider:
    name = "fake"

    def __init__(self, text: str) -> None:
        self.text = text

    def complete(self, model, prompt, max_tokens):
        return Completion(text=self.text, tokens_in=1, tokens_out=1)


def test_a_remote_provider_answer_is_validated_like_any_tree(db, monkeypatch):
    answer = {"tasks": [leaf("one"), leaf("two", depends_on=["one", "ghost"])]}
    fenced = "```json\n" + json.dumps(answer) + "\n```"
    monkeypatch.setattr(strategies, "planner_provider", lambda: FakeProvider(fenced))
    errors = service.analyse("goal", "llm", {}).errors
    assert [(error.task, error.field) for error in errors] == [("two", "depends_on[1]")]


def test_malformed_llm_json_is_a_clear_422_and_stores_nothing(client, api_headers, monkeypatch):
    monkeypatch.setattr(strategies, "planner_provider", lambda: FakeProvider('{"tasks": [{"id": "a", '))
    headers, _ = api_headers("operator")
    response = client.post("/api/v3/decompositions", json={"goal": "plan it", "strategy": "llm", "input": {}},
                           headers=headers)
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "validation_failed"
    assert error["details"]["errors"] == [{"task": None, "field": "strategy",
                                           "message": "the fake provider's answer is not JSON: "
                                                      "'{\"tasks\": [{\"id\": \"a\", '"}]
    listed = client.get("/api/v3/decompositions", headers=headers).get_json()
    assert listed["items"] == []
