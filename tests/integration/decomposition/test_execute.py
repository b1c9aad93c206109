"""Executing a decomposition on real workers: the run succeeds and its outputs match the tree."""
from __future__ import annotations

import json
from decimal import Decimal

from tests.integration.runs.conftest import wait_for_run
from webapp.decomposition import service
from webapp.extensions import db


def test_an_explicit_tree_runs_on_real_workers_and_each_output_matches_its_task(workers, operator):
    tree = {"tasks": [
        {"id": "intro", "uses": "template.render", "with": {"template": "Hello"}},
        {"id": "body", "children": [
            {"id": "part1", "uses": "template.render", "with": {"template": "one after {{ steps.intro.output }}"},
             "depends_on": ["intro"]},
            {"id": "part2", "uses": "python.call", "with": {"function": "echo", "args": [2]}},
        ]},
        {"id": "done", "uses": "template.render", "depends_on": ["body"],
         "with": {"template": "{{ steps.body.output }}"}},
    ]}
    decomposition = service.create("say hello in parts", "explicit", tree, actor=operator)
    db.session.commit()
    workers.start(1)
    executed = service.execute(decomposition.id, operator)
    run = wait_for_run(executed.run_id)
    assert run.status == "succeeded", run.error
    outputs = {step.step_key: step.output for step in run.steps}
    assert outputs["intro"] == "Hello"
    assert outputs["part1"] == "one after Hello"
    assert outputs["part2"] == 2
    assert json.loads(outputs["body"]) == ["one after Hello", 2]
    assert json.loads(outputs["done"]) == ["one after Hello", 2]


def test_map_reduce_runs_and_a_new_plan_of_the_same_kind_uses_the_history_it_left(workers, operator):
    raw = {"pattern": "map_reduce", "params": {
        "items": ["a", "b", "c"],
        "map": {"uses": "llm.complete", "with": {"model": "local-small", "prompt": "Summarise {{ item }}",
                                                 "max_tokens": 8}},
        "reduce": {"uses": "template.render", "with": {"template": "{{ outputs }}"}}}}
    decomposition = service.create("three notes", "template", raw, actor=operator)
    db.session.commit()
    assert decomposition.plan["tasks"]["map_1"]["cost_basis"] == "upper bound"
    workers.start(2)
    run = wait_for_run(service.execute(decomposition.id, operator).run_id)
    assert run.status == "succeeded", run.error
    reduced = json.loads(run.step("reduce").output)
    assert [item["text"] for item in reduced] == [run.step(f"map_{n}").output["text"] for n in (1, 2, 3)]
    assert reduced[0]["text"] == "local - small says : a Summarise"
    replanned = service.analyse("three notes", "template", raw).plan
    assert replanned["tasks"]["map_1"]["cost_basis"] == "median of 3 past attempts"
    assert replanned["tasks"]["map_1"]["duration_basis"] == "median of 3 past attempts of llm.complete"
    assert run.cost_total > 0 and Decimal(replanned["estimated_cost"]) == run.cost_total  # three equal map costs
