"""memory.put / memory.get / memory.delete in real runs on real workers."""
from __future__ import annotations

import json

from tests.integration.runs.conftest import wait_for_run
from webapp.runs import actions

WRITER = {"name": "digest-writer", "params": {"topic": {"type": "string", "required": True}}, "steps": [
    {"id": "summary", "uses": "template.render", "with": {"template": "all about {{ params.topic }}"}},
    {"id": "keep", "uses": "memory.put", "needs": ["summary"],
     "with": {"namespace": "workflow:digest", "key": "{{ params.topic }}",
              "value": {"text": "{{ steps.summary.output }}", "by": "{{ run.id }}"}, "ttl": 3600}},
    {"id": "scratch", "uses": "memory.put", "with": {"namespace": "run:{{ run.id }}", "key": "note", "value": 1}},
]}
READER = {"name": "digest-reader", "params": {"topic": {"type": "string", "required": True}}, "steps": [
    {"id": "recall", "uses": "memory.get", "with": {"namespace": "workflow:digest", "key": "{{ params.topic }}"}},
    {"id": "maybe", "uses": "memory.get",
     "with": {"namespace": "global", "key": "never-written", "default": {"empty": True}}},
    {"id": "use", "uses": "template.render", "needs": ["recall"],
     "with": {"template": "recalled: {{ steps.recall.output.text }}"}},
    {"id": "forget", "uses": "memory.delete", "needs": ["use"],
     "with": {"namespace": "workflow:digest", "key": "{{ params.topic }}"}},
]}


def test_a_value_put_by_one_run_is_read_by_the_next(db, workers, make_workflow, operator, store):
    make_workflow(WRITER)
    make_workflow(READER)
    workers.start(1)

    writer = wait_for_run(actions.trigger_run("digest-writer", {"topic": "rq"}, operator)[0].id)
    assert writer.status == "succeeded", workers.logs()
    stored = json.dumps({"text": "all about rq", "by": writer.id}, separators=(",", ":"))
    assert writer.step("keep").output == {"stored": True, "bytes": len(stored), "tier": "l3"}

    reader = wait_for_run(actions.trigger_run("digest-reader", {"topic": "rq"}, operator)[0].id)
    assert reader.status == "succeeded", workers.logs()
    assert reader.step("recall").output == {"text": "all about rq", "by": writer.id}
    assert reader.step("maybe").output == {"empty": True}
    assert reader.step("use").output == "recalled: all about rq"
    assert reader.step("forget").output == {"deleted": True}
    assert store.get("workflow:digest", "rq") is None
    assert store.get(f"run:{writer.id}", "note").value == 1


def test_a_missing_key_without_default_fails_the_step_at_once(db, workers, make_workflow, operator):
    make_workflow({"name": "forgetful", "steps": [
        {"id": "recall", "uses": "memory.get", "retry": {"max": 3, "backoff": [0]},
         "with": {"namespace": "global", "key": "nobody-wrote-this"}}]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("forgetful", {}, operator)[0].id)
    step = run.step("recall")
    assert run.status == "failed" and step.status == "failed"
    assert "global has no entry 'nobody-wrote-this'" in step.error
    assert step.retries == 0, "a missing key is not retried"


def test_a_put_the_store_refuses_fails_the_step_without_retries(db, workers, make_workflow, operator):
    make_workflow({"name": "misfiled", "steps": [
        {"id": "keep", "uses": "memory.put", "retry": {"max": 3, "backoff": [0]},
         "with": {"namespace": "nowhere", "key": "k", "value": 1}}]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("misfiled", {}, operator)[0].id)
    step = run.step("keep")
    assert step.status == "failed" and step.retries == 0
    assert "must be global, memo, workflow:<slug> or run:<id>" in step.error
