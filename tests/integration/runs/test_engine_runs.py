"""Runs executed by real `flask worker` processes against PostgreSQL and Redis."""
from __future__ import annotations

from sqlalchemy import select

from tests.integration.runs.conftest import counted, executions, wait_for_run, wait_until
from webapp.costs.models import CostRecord
from webapp.events.models import Event
from webapp.runs import actions
from webapp.runs.checkpoints import covered_steps
from webapp.runs.models import Checkpoint
from webapp.runs.service import get_run


def test_a_three_step_run_succeeds_passing_outputs_along_and_records_its_cost(db, workers, make_workflow, operator):
    make_workflow({"name": "three", "params": {"topic": {"type": "string", "required": True}}, "steps": [
        {"id": "greet", "uses": "template.render", "with": {"template": "Hello {{ params.topic }}"}},
        {"id": "think", "uses": "llm.complete", "needs": ["greet"],
         "with": {"model": "local-small", "prompt": "{{ steps.greet.output }}"}},
        {"id": "shout", "uses": "template.render", "needs": ["think"],
         "with": {"template": "{{ steps.greet.output | upper }}!"}},
    ]})
    workers.start(1)
    run, created = actions.trigger_run("three", {"topic": "rq"}, operator)
    assert created and run.status == "running"
    run = wait_for_run(run.id)
    assert run.status == "succeeded", workers.logs()
    assert [(s.step_key, s.status, s.attempt) for s in run.steps] == [
        ("greet", "succeeded", 1), ("think", "succeeded", 1), ("shout", "succeeded", 1)]
    assert run.step("shout").output == "HELLO RQ!"
    costs = db.session.execute(select(CostRecord).where(CostRecord.run_id == run.id)).scalars().all()
    assert len(costs) == 1 and costs[0].amount > 0 and run.cost_total == costs[0].amount
    checkpoints = db.session.execute(select(Checkpoint).where(Checkpoint.run_id == run.id)).scalars()
    assert [c.seq for c in checkpoints] == [1, 2, 3]
    types = [e.type for e in db.session.execute(select(Event).order_by(Event.id)).scalars()
             if e.type.startswith(("run.", "step."))]
    assert types[0] == "run.queued" and types[-1] == "run.succeeded" and types.count("step.succeeded") == 3
    step_lines = [line for line in workers.logs().splitlines() if "attempt 1 started" in line]
    assert len(step_lines) == 3 and all(f"run={run.id}]" in line for line in step_lines)


def test_fan_out_then_fan_in_runs_the_join_once_after_every_branch(db, redis, workers, make_workflow, operator):
    branches = [counted(f"b{i}", ["start"]) for i in range(6)]
    make_workflow({"name": "fan", "steps": [counted("start"), *branches,
                                            counted("join", [b["id"] for b in branches])]})
    workers.start(2)
    run = wait_for_run(actions.trigger_run("fan", {}, operator)[0].id)
    assert run.status == "succeeded", workers.logs()
    join = run.step("join")
    assert all(join.started_at >= run.step(f"b{i}").finished_at for i in range(6))
    assert [executions(redis, f"{run.id}-{s.step_key}") for s in run.steps] == [1] * 8


def test_a_failing_step_is_retried_after_its_backoff_then_succeeds(db, workers, make_workflow, operator):
    make_workflow({"name": "flaky", "steps": [
        {"id": "flaky", "uses": "control.fail", "with": {"times": 2}, "retry": {"max": 3, "backoff": [1, 1]}},
        {"id": "after", "uses": "template.render", "needs": ["flaky"], "with": {"template": "done"}},
    ]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("flaky", {}, operator)[0].id)
    assert run.status == "succeeded", workers.logs()
    flaky = run.step("flaky")
    assert (flaky.attempt, flaky.retries, flaky.output) == (3, 2, {"attempt": 3})
    retrying = db.session.execute(select(Event).where(Event.type == "step.retrying")).scalars().all()
    assert len(retrying) == 2
    assert (flaky.started_at - retrying[-1].created_at).total_seconds() >= 0.9


def test_exhausted_retries_fail_the_run_and_skip_everything_downstream(db, workers, make_workflow, operator):
    make_workflow({"name": "doomed", "steps": [
        {"id": "ok", "uses": "template.render", "with": {"template": "fine"}},
        {"id": "broken", "uses": "control.fail", "needs": ["ok"], "retry": {"max": 1, "backoff": [0]}},
        {"id": "next", "uses": "template.render", "needs": ["broken"], "with": {"template": "x"}},
        {"id": "last", "uses": "template.render", "needs": ["next"], "with": {"template": "y"}},
    ]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("doomed", {}, operator)[0].id)
    assert run.status == "failed", workers.logs()
    assert [(s.step_key, s.status) for s in run.steps] == [
        ("ok", "succeeded"), ("broken", "failed"), ("next", "skipped"), ("last", "skipped")]
    assert run.step("broken").attempt == 2 and "fails every attempt" in run.step("broken").error
    assert "broken failed" in run.error


def test_resume_from_a_checkpoint_reruns_only_what_had_not_completed(db, redis, workers, make_workflow, operator):
    make_workflow({"name": "resumable", "steps": [
        counted("one"), counted("two", ["one"]),
        {"id": "gate", "uses": "control.fail", "needs": ["two"], "with": {"times": 1}},
        counted("three", ["gate"]),
    ]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("resumable", {}, operator)[0].id)
    assert run.status == "failed" and run.step("three").status == "skipped", workers.logs()
    checkpoint = db.session.execute(select(Checkpoint).where(Checkpoint.run_id == run.id)
                                    .order_by(Checkpoint.seq.desc())).scalars().first()
    assert set(covered_steps(checkpoint)) == {"one", "two"}
    resumed = actions.resume(run.id, operator, checkpoint.id)
    assert resumed.id == run.id and resumed.status == "running"
    run = wait_for_run(run.id)
    assert run.status == "succeeded", workers.logs()
    assert run.resumed_from_checkpoint_id == checkpoint.id
    assert [executions(redis, f"{run.id}-{key}") for key in ("one", "two", "three")] == [1, 1, 1]
    assert run.step("gate").attempt == 2


def test_cancel_mid_run_stops_the_running_step_and_never_starts_the_queued_ones(
        db, redis, workers, make_workflow, operator):
    make_workflow({"name": "long", "steps": [
        {"id": "nap", "uses": "control.sleep", "with": {"seconds": 30}},
        counted("after", ["nap"]),
    ]})
    workers.start(1)
    run = actions.trigger_run("long", {}, operator)[0]
    wait_until(lambda: get_run(run.id).step("nap").status == "running", what="nap to start")
    cancelled = actions.cancel(run.id, operator)
    assert cancelled.status == "cancelled"
    assert [s.status for s in cancelled.steps] == ["cancelled", "cancelled"]
    wait_until(lambda: not any(w.get_current_job_id() for w in _rq_workers(redis)), 20, "the horse to stop")
    run = get_run(run.id)
    assert run.status == "cancelled" and run.step("nap").output is None
    assert executions(redis, f"{run.id}-after") == 0


def _rq_workers(redis):
    from rq import Worker

    return Worker.all(connection=redis)


def test_approval_gate_pauses_the_run_until_approved(db, workers, make_workflow, operator):
    make_workflow({"name": "gated", "steps": [
        {"id": "draft", "uses": "template.render", "with": {"template": "draft"}},
        {"id": "approve", "uses": "gate.approval", "needs": ["draft"], "with": {"prompt": "Ship it?"}},
        {"id": "ship", "uses": "template.render", "needs": ["approve"],
         "with": {"template": "{{ steps.approve.output.comment }}"}},
    ]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("gated", {}, operator)[0].id, statuses=("paused",))
    assert run.step("approve").status == "waiting_approval" and run.step("ship").status == "pending"
    actions.decide_gate(run.id, "approve", approved=True, comment="go", actor=operator)
    run = wait_for_run(run.id)
    assert run.status == "succeeded", workers.logs()
    assert run.step("approve").output == {"approved": True, "comment": "go", "by": operator.email}
    assert run.step("ship").output == "go"


def test_rejecting_an_approval_gate_fails_the_run_and_skips_what_follows(db, workers, make_workflow, operator):
    make_workflow({"name": "rejected", "steps": [
        {"id": "approve", "uses": "gate.approval"},
        {"id": "ship", "uses": "template.render", "needs": ["approve"], "with": {"template": "no"}},
    ]})
    run = actions.trigger_run("rejected", {}, operator)[0]
    assert run.status == "paused"
    run = actions.decide_gate(run.id, "approve", approved=False, comment="not today", actor=operator)
    assert run.status == "failed"
    assert [(s.step_key, s.status) for s in run.steps] == [("approve", "failed"), ("ship", "skipped")]
    assert run.step("approve").error == "rejected: not today"


def test_an_idempotency_key_returns_the_existing_run(db, make_workflow, operator):
    make_workflow({"name": "once", "steps": [{"id": "a", "uses": "template.render", "with": {"template": "a"}}]})
    first, created = actions.trigger_run("once", {}, operator, "key-1")
    again, created_again = actions.trigger_run("once", {}, operator, "key-1")
    other, created_other = actions.trigger_run("once", {}, operator, "key-2")
    assert (created, created_again, created_other) == (True, False, True)
    assert again.id == first.id and other.id != first.id


def test_max_concurrent_runs_holds_extra_runs_queued_and_starts_them_in_order(db, workers, make_workflow, operator):
    make_workflow({"name": "narrow", "max_concurrent_runs": 1, "steps": [
        {"id": "nap", "uses": "control.sleep", "with": {"seconds": 0.5}}]})
    runs = [actions.trigger_run("narrow", {}, operator)[0] for _ in range(3)]
    assert [r.status for r in runs] == ["running", "queued", "queued"]
    workers.start(2)
    finished = [wait_for_run(r.id) for r in runs]
    assert [r.status for r in finished] == ["succeeded"] * 3, workers.logs()
    for earlier, later in zip(finished, finished[1:], strict=False):
        assert later.started_at >= earlier.finished_at


def test_a_step_running_past_its_timeout_fails_and_its_retry_policy_applies(db, workers, make_workflow, operator):
    make_workflow({"name": "slowpoke", "steps": [
        {"id": "nap", "uses": "control.sleep", "with": {"seconds": 20}, "timeout": 1,
         "retry": {"max": 1, "backoff": [0]}},
    ]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("slowpoke", {}, operator)[0].id)
    nap = run.step("nap")
    assert (run.status, nap.status, nap.attempt, nap.error) == ("failed", "failed", 2, "timed out after 1s")
