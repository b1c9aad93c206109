"""Validation reports every problem at once, each naming its task; the caps refuse before planning."""
from __future__ import annotations

import pytest

from webapp.decomposition import planning, service
from webapp.exceptions import InvalidInput


def problems(tree, strategy="explicit", goal="a goal"):
    return {(error.task, error.field, error.message) for error in service.analyse(goal, strategy, tree).errors}


def leaf(task_id, **fields):
    return {"id": task_id, "uses": "template.render", "with": {"template": task_id}, **fields}


def test_every_kind_of_problem_is_reported_at_once_each_naming_its_task(db):
    tree = {"tasks": [
        leaf("fetch", depends_on=["nowhere"]),
        leaf("fetch"),
        {"id": "odd", "uses": "no.such.kind"},
        {"id": "ask", "uses": "llm.complete", "with": {"model": 7}},
        leaf("ping", depends_on=["pong"]),
        leaf("pong", depends_on=["ping"]),
        {"id": "9bad", "uses": "template.render"},
        {"id": "slow", "uses": "control.sleep", "with": {"seconds": 1}, "timeout": -1, "colour": "red"},
    ]}
    found = problems(tree)
    assert ("fetch", "depends_on[0]", "refers to an unknown task 'nowhere'") in found
    assert ("fetch", "id", "duplicate task id 'fetch'") in found
    assert any(task == "odd" and field == "uses" and "unknown step kind 'no.such.kind'" in message
               for task, field, message in found)
    assert any(task == "ask" and field == "with.model" for task, field, _ in found)
    assert any(task == "ask" and field == "with.prompt" and "required" in message for task, field, message in found)
    assert ("ping", "depends_on", "dependencies form a cycle: ping -> pong -> ping") in found
    assert any(task == "9bad" and field == "id" for task, field, _ in found)
    assert any(task == "slow" and field == "timeout" for task, field, _ in found)
    assert any(task == "slow" and field == "colour" and "unknown field" in message for task, field, message in found)


def test_a_child_that_depends_on_its_parent_is_a_cycle_through_the_parent(db):
    tree = {"tasks": [{"id": "report", "children": [leaf("part", depends_on=["report"])]}]}
    assert ("report", "depends_on", "dependencies form a cycle: report -> part -> report") in problems(tree)


def test_a_leaf_without_uses_is_refused_but_a_parent_may_leave_it_out(db):
    found = problems({"tasks": [{"id": "lonely"}, {"id": "group", "children": [leaf("member")]}]})
    assert {(task, field) for task, field, _ in found} == {("lonely", "uses")}


def test_nesting_deeper_than_the_depth_cap_is_refused_at_the_task_too_deep(db, app):
    depth = app.config["DECOMPOSITION_MAX_DEPTH"]
    tree = leaf(f"t{depth + 1}")
    for level in range(depth, 0, -1):
        tree = {"id": f"t{level}", "children": [tree]}
    found = problems({"tasks": [tree]})
    assert (f"t{depth}", "children", f"nests deeper than {depth} levels, the limit (DECOMPOSITION_MAX_DEPTH)") in found


def test_a_ten_thousand_task_tree_is_refused_by_the_cap_without_being_planned(db, app, monkeypatch):
    def no_planning(*args, **kwargs):
        raise AssertionError("a tree over the cap must not be planned")

    monkeypatch.setattr(service, "plan_steps", no_planning)
    monkeypatch.setattr(planning, "plan_steps", no_planning)
    tree = {"tasks": [leaf(f"t{index}") for index in range(10_000)]}
    with pytest.raises(InvalidInput) as refused:
        service.create("too big", "explicit", tree)
    errors = refused.value.details["errors"]
    cap = app.config["DECOMPOSITION_MAX_TASKS"]
    assert errors == [{"task": None, "field": "tasks", "message": f"the tree has more than {cap} tasks, the limit "
                                                                  "(DECOMPOSITION_MAX_TASKS); split the goal or raise "
                                                                  "the limit"}]


def test_a_tree_at_the_cap_is_planned(db, app):
    cap = app.config["DECOMPOSITION_MAX_TASKS"]
    analysis = service.analyse("at the cap", "explicit", {"tasks": [leaf(f"t{index}") for index in range(cap)]})
    assert analysis.errors == [] and analysis.plan["task_count"] == cap and analysis.plan["max_parallelism"] == cap


def test_a_template_that_reads_a_step_not_upstream_is_named_with_its_task(db):
    tree = {"tasks": [leaf("a"), {"id": "b", "uses": "template.render", "with": {"template": "{{ steps.a.output }}"}}]}
    assert any(task == "b" and field == "with.template" and "not upstream" in message
               for task, field, message in problems(tree))


@pytest.mark.parametrize("tree,field", [
    ([], "tree"),
    ({"tasks": []}, "tasks"),
    ({"tasks": "many"}, "tasks"),
    ({"tasks": [leaf("a")], "extra": 1}, "extra"),
    ({"tasks": [5]}, "task"),
    ({"tasks": [leaf("a", children="no")]}, "children"),
    ({"tasks": [leaf("a", depends_on="b")]}, "depends_on"),
    ({"tasks": [leaf("a", title=["x"])]}, "title"),
])
def test_malformed_trees_are_problems_not_crashes(db, tree, field):
    assert field in {found_field for _, found_field, _ in problems(tree)}


def test_an_unknown_strategy_or_blank_goal_is_a_problem(db):
    assert (None, "strategy", "unknown strategy 'magic' (known: explicit, llm, template)") in problems({}, "magic")
    assert any(field == "goal" for _, field, _ in problems({"tasks": [leaf("a")]}, goal="  "))
