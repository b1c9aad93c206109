"""``task.decompose`` without ``child_workflow``: the strategy plans the children's workflow, run on real workers."""
from __future__ import annotations

import json

from sqlalchemy import select

from tests.integration.decomposition.test_fan_out import children, most_at_once
from tests.integration.runs.conftest import wait_for_run, wait_until
from webapp.extensions import db
from webapp.runs import actions
from webapp.runs.service import get_run
from webapp.workflows.models import Workflow
from webapp.workflows.service import create_workflow, get_version

ITEMS = 12
# The children's plan reads the child's item (params.item), so it arrives as data: a param's default,
# which the parent step renders to the object without rendering the templates inside it.
MAP_REDUCE = {"pattern": "map_reduce", "params": {
    "items": ["price", "risk"],
    "map": {"uses": "template.render", "with": {"template": "{{ params.item }} {{ item }}"}},
    "reduce": {"uses": "template.render", "with": {"template": "{{ outputs }}"}}}}


def planned_parent(name: str, step_with: dict, *, params: dict | None = None, items=None) -> dict:
    return {"name": name, "params": params or {}, "steps": [
        {"id": "make", "uses": "python.call",
         "with": {"function": "echo", "args": [items or [f"doc-{index}" for index in range(ITEMS)]]}},
        {"id": "fan", "uses": "task.decompose", "needs": ["make"],
         "with": {"items": "{{ steps.make.output }}", **step_with}}]}


def trigger(operator, definition: dict) -> int:
    create_workflow(definition)
    db.session.commit()
    return actions.trigger_run(definition["name"], {}, operator)[0].id


def test_a_template_strategy_plans_one_workflow_and_runs_it_once_per_item_three_at_a_time(workers, operator):
    workers.start(1)
    run_id = trigger(operator, planned_parent(
        "planned-fan", {"strategy": "template", "goal": "rate each document", "input": "{{ params.plan }}",
                        "max_children": 3},
        params={"plan": {"type": "object", "default": MAP_REDUCE}}))
    run = wait_for_run(run_id, timeout=240)
    assert run.status == "succeeded", workers.logs()[-3000:]
    reduced = [json.loads(output) for output in run.step("fan").output]  # template.render gives text
    assert reduced == [[f"doc-{index} price", f"doc-{index} risk"] for index in range(ITEMS)]
    kids = children(run.id)
    assert [kid.parent_item for kid in kids] == list(range(ITEMS))
    assert {kid.workflow_id for kid in kids} == {kids[0].workflow_id}  # one generated workflow
    assert all(kid.params == {"item": f"doc-{kid.parent_item}", "index": kid.parent_item,
                              "goal": "rate each document"} for kid in kids)
    assert most_at_once(kids) == 3
    generated = db.session.get(Workflow, kids[0].workflow_id)
    fan = run.step("fan")
    assert generated.slug == f"decomp-{run.id}-fan-{fan.attempt}"
    steps = get_version(generated).definition["steps"]
    assert [step["id"] for step in steps] == ["map_1", "map_2", "reduce"]


def test_the_llm_strategy_with_the_local_provider_gives_each_child_its_item(workers, operator):
    workers.start(1)
    run = wait_for_run(trigger(operator, planned_parent(
        "llm-fan", {"strategy": "llm", "goal": "summarise then critique", "max_children": 2},
        items=["alpha", "beta", "gamma"])), timeout=240)
    assert run.status == "succeeded", workers.logs()[-3000:]
    kids = children(run.id)
    steps = get_version(kids[0].workflow).definition["steps"]
    assert [step["id"] for step in steps] == ["t1_summarise", "t2_critique"]
    assert steps[0]["with"]["prompt"] == "summarise: {{ params.item }}"
    first = [kid.step("t1_summarise").output["text"] for kid in kids]
    assert all(item in text for item, text in zip(["alpha", "beta", "gamma"], first, strict=True))
    assert [output["text"] for output in run.step("fan").output] == [kid.step("t2_critique").output["text"]
                                                                     for kid in kids]


def test_a_plan_that_does_not_validate_fails_the_step_naming_each_task_and_starts_no_child(workers, operator):
    bad = {"tasks": [{"id": "a", "uses": "no.such_kind"},
                     {"id": "b", "uses": "template.render", "with": {"template": "x"}, "depends_on": ["ghost"]}]}
    workers.start(1)
    run = wait_for_run(trigger(operator, planned_parent(
        "bad-fan", {"strategy": "explicit", "goal": "g", "input": "{{ params.plan }}"},
        params={"plan": {"type": "object", "default": bad}})), timeout=120)
    fan = run.step("fan")
    assert run.status == "failed" and fan.status == "failed"
    assert fan.error.startswith("the explicit strategy could not plan the children: The decomposition has 2 problem")
    assert "a.uses: unknown step kind 'no.such_kind'" in fan.error
    assert "b.depends_on[0]: refers to an unknown task 'ghost'" in fan.error
    assert children(run.id) == [] and fan.attempt == 1  # not retried: the same inputs plan the same way
    assert db.session.scalar(select(Workflow).where(Workflow.slug.like(f"decomp-{run.id}-%"))) is None


def test_cancelling_a_planned_fan_out_cancels_its_children(workers, operator):
    slow = {"tasks": [{"id": "work", "uses": "control.sleep", "with": {"seconds": 30}}]}
    workers.start(2)
    run_id = trigger(operator, planned_parent(
        "slow-fan", {"strategy": "explicit", "goal": "wait", "input": slow, "max_children": 2}))
    wait_until(lambda: sum(kid.status == "running" for kid in children(run_id)) == 2, 120, "two running children")
    actions.cancel(run_id, operator)
    assert get_run(run_id).status == "cancelled"
    kids = children(run_id)
    assert len(kids) == ITEMS and {kid.status for kid in kids} == {"cancelled"}
    assert sum(kid.started_at is not None for kid in kids) == 2


def test_a_definition_must_name_either_child_workflow_or_strategy(db):
    from webapp.workflows.definition import validate_definition

    def errors(step_with: dict) -> list[str]:
        step = {"id": "fan", "uses": "task.decompose", "with": {"items": [1], **step_with}}
        definition = {"name": "x", "steps": [step]}
        return [f"{error.field}: {error.message}" for error in validate_definition(definition)]

    assert errors({"strategy": "llm", "goal": "g"}) == []
    assert errors({"child_workflow": "w"}) == []
    neither = errors({})
    assert len(neither) == 1 and "give either child_workflow" in neither[0]
    assert len(errors({"child_workflow": "w", "strategy": "llm"})) == 1
    assert errors({"strategy": "magic"}) == ["with.strategy: unknown strategy 'magic' (known: explicit, llm, template)"]
    assert "input is the strategy's" in errors({"child_workflow": "w", "input": {}})[0]


def test_items_of_mixed_types_cannot_be_one_typed_param(db):
    import pytest

    from webapp.decomposition.fan_out import child_definition
    from webapp.steps.base import StepFailed

    with pytest.raises(StepFailed, match="must all be of one JSON type .*got integer, string") as raised:
        child_definition("llm", "g", None, [1, "two"], name="x")
    assert raised.value.retryable is False
