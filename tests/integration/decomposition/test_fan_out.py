"""``task.decompose`` over 30 items with real workers: the cap, item order, cancel, a SIGKILLed worker
(with a child workflow, and with the children's workflow planned by a strategy)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.runs.conftest import horse_pid, wait_for_run, wait_until
from webapp.extensions import db
from webapp.runs import actions
from webapp.runs.models import StepAttempt, WorkflowRun
from webapp.runs.reconcile import reconcile
from webapp.runs.service import get_run
from webapp.workflows.service import create_workflow

ITEMS = 30


def child_workflow(seconds: float, retry: int = 0) -> dict:
    return {"name": "child-work", "params": {"item": {"type": "string", "required": True}},
            "steps": [{"id": "work", "uses": "control.sleep", "with": {"seconds": seconds},
                       "retry": {"max": retry, "backoff": [0]}},
                      {"id": "done", "uses": "template.render", "needs": ["work"],
                       "with": {"template": "done {{ params.item }}"}}]}


PARENT = {"name": "fan-out", "steps": [
    {"id": "make", "uses": "python.call", "with": {"function": "echo",
                                                   "args": [[f"item-{index}" for index in range(ITEMS)]]}},
    {"id": "fan", "uses": "task.decompose", "needs": ["make"],
     "with": {"goal": "work each item", "items": "{{ steps.make.output }}", "child_workflow": "child-work",
              "max_children": 5}},
    {"id": "after", "uses": "template.render", "needs": ["fan"], "with": {"template": "{{ steps.fan.output[0] }}"}},
]}


def planned_parent(seconds: float, retry: int) -> dict:
    """PARENT with no child_workflow: the explicit strategy plans the same two steps, from a param."""
    tree = {"tasks": [{"id": step["id"], "uses": step["uses"], "with": step["with"],
                       "depends_on": step.get("needs", []), **({"retry": step["retry"]} if "retry" in step else {})}
                      for step in child_workflow(seconds, retry)["steps"]]}
    fan = {**PARENT["steps"][1], "with": {key: value for key, value in PARENT["steps"][1]["with"].items()
                                          if key != "child_workflow"}}
    fan["with"].update(strategy="explicit", input="{{ params.plan }}")
    return {**PARENT, "params": {"plan": {"type": "object", "default": tree}},
            "steps": [PARENT["steps"][0], fan, PARENT["steps"][2]]}


def start(operator, seconds: float, retry: int = 0, *, planned: bool = False) -> int:
    create_workflow(planned_parent(seconds, retry) if planned else child_workflow(seconds, retry))
    if not planned:
        create_workflow(PARENT)
    db.session.commit()
    return actions.trigger_run("fan-out", {}, operator)[0].id


def children(run_id: int) -> list[WorkflowRun]:
    db.session.expire_all()
    return list(db.session.scalars(select(WorkflowRun).where(WorkflowRun.parent_run_id == run_id)
                                   .order_by(WorkflowRun.parent_item)))


def most_at_once(runs: list[WorkflowRun]) -> int:
    """The most child runs that were active at the same moment, from their own start and finish times."""
    moments = sorted([(run.started_at, 1) for run in runs] + [(run.finished_at, -1) for run in runs],
                     key=lambda moment: (moment[0], moment[1]))
    active = peak = 0
    for _moment, change in moments:
        active += change
        peak = max(peak, active)
    return peak


def test_thirty_children_run_five_at_a_time_on_one_worker_and_the_output_is_in_item_order(workers, operator, client,
                                                                                         login_as):
    workers.start(1)  # one worker: a parent that held it while waiting would never see its children run
    run = wait_for_run(start(operator, 0.05), timeout=240)
    assert run.status == "succeeded", workers.logs()[-3000:]
    fan = run.step("fan")
    assert fan.output == [f"done item-{index}" for index in range(ITEMS)]
    assert run.step("after").output == "done item-0"
    kids = children(run.id)
    assert [kid.parent_item for kid in kids] == list(range(ITEMS))
    assert all(kid.status == "succeeded" and kid.params == {"item": f"item-{kid.parent_item}"} for kid in kids)
    assert most_at_once(kids) == 5
    attempt = db.session.scalar(select(StepAttempt).where(StepAttempt.step_run_id == fan.id))
    assert attempt.status == "succeeded" and attempt.output == fan.output
    login_as("viewer")
    parent_page = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert parent_page.count('data-testid="child-run"') == ITEMS and f'href="/runs/{kids[0].id}"' in parent_page
    child_page = client.get(f"/runs/{kids[3].id}").get_data(as_text=True)
    assert f'href="/runs/{run.id}" data-testid="parent-run"' in child_page and "item 3 of" in child_page
    parent_json = client.get(f"/api/v3/runs/{run.id}").get_json()["run"]
    assert parent_json["parent"] is None and parent_json["decomposition_id"] is None
    steps = {step["step_id"]: step for step in parent_json["steps"]}
    assert steps["make"]["children"] is None  # only a fan-out step has children
    assert steps["fan"]["children"] == [{"run_id": kid.id, "item": kid.parent_item, "status": "succeeded"}
                                        for kid in kids]
    child_json = client.get(f"/api/v3/runs/{kids[3].id}").get_json()["run"]
    assert child_json["parent"] == {"run_id": run.id, "step": "fan", "attempt": 1, "item": 3}


def test_cancelling_the_parent_cancels_its_children_and_starts_no_more(workers, operator):
    workers.start(2)
    run_id = start(operator, 30)
    wait_until(lambda: sum(kid.status == "running" for kid in children(run_id)) == 5, 120, "five running children")
    actions.cancel(run_id, operator)
    run = get_run(run_id)
    assert run.status == "cancelled" and run.step("fan").status == "cancelled"
    kids = children(run_id)
    assert len(kids) == ITEMS and {kid.status for kid in kids} == {"cancelled"}
    assert sum(kid.started_at is not None for kid in kids) == 5
    wait_until(lambda: all(step.status == "cancelled" for kid in children(run_id) for step in kid.steps), 60,
               "every child step cancelled")


@pytest.mark.parametrize("planned", [False, True], ids=["child_workflow", "planned_by_strategy"])
def test_a_worker_killed_during_the_fan_out_is_recovered_and_no_child_is_started_twice(workers, operator, planned):
    workers.start(1)
    run_id = start(operator, 1.0, retry=1, planned=planned)
    victim = wait_until(lambda: next((step for kid in children(run_id) for step in kid.steps
                                      if step.step_key == "work" and step.status == "running"), None), 120,
                        "a child step to run")
    workers.kill(workers.processes[0], horse_pid(victim))
    report = reconcile(grace_seconds=0)
    assert report.crashed == 1
    reconcile(grace_seconds=0)  # a second pass changes nothing: the parent's children exist once
    workers.start(2)
    run = wait_for_run(run_id, timeout=300)
    assert run.status == "succeeded", workers.logs()[-3000:]
    kids = children(run_id)
    assert len(kids) == ITEMS and sorted(kid.parent_item for kid in kids) == list(range(ITEMS))
    assert run.step("fan").output == [f"done item-{index}" for index in range(ITEMS)]
    crashed = get_run(victim.run_id).step("work")
    assert crashed.attempt == 2  # the killed attempt, then its retry


def tolerant(operator, allow_failures: int) -> int:
    """Five children, of which items 1 and 3 fail (control.fail fails the first ``item`` attempts)."""
    create_workflow({"name": "maybe-fail", "params": {"item": {"type": "integer", "required": True}},
                     "steps": [{"id": "try", "uses": "control.fail", "with": {"times": "{{ params.item }}"}}]})
    create_workflow({"name": "tolerant", "steps": [
        {"id": "fan", "uses": "task.decompose",
         "with": {"items": [0, 1, 0, 1, 0], "child_workflow": "maybe-fail", "max_children": 5,
                  "allow_failures": allow_failures}}]})
    db.session.commit()
    return actions.trigger_run("tolerant", {}, operator)[0].id


def test_failed_children_within_allow_failures_are_null_in_the_output(workers, operator):
    workers.start(1)
    run = wait_for_run(tolerant(operator, 2), timeout=120)
    assert run.status == "succeeded", workers.logs()[-3000:]
    assert run.step("fan").output == [{"attempt": 1}, None, {"attempt": 1}, None, {"attempt": 1}]


def test_one_failure_more_than_allowed_fails_the_step_naming_the_children(workers, operator):
    workers.start(1)
    run = wait_for_run(tolerant(operator, 1), timeout=120)
    assert run.status == "failed"
    fan = run.step("fan")
    assert fan.status == "failed" and fan.error.startswith("2 of 5 child runs did not succeed (allowed: 1)")
    assert {kid.status for kid in children(run.id)} <= {"succeeded", "failed", "cancelled"}
