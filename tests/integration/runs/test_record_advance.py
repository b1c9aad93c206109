"""A step's record advances only what depends on it, and still ends the run when it should.

Run in this process (no worker): each step is claimed and its outcome saved as a worker would.
The definition lists the steps out of order, so nothing relies on the order of the list.
"""
from __future__ import annotations

from sqlalchemy import event, select

from webapp.runs import actions, execution
from webapp.runs.models import StepRun, WorkflowRun
from webapp.steps.base import StepResult

DEFINITION = {"name": "graph", "steps": [
    {"id": "d", "uses": "template.render", "needs": ["c"], "with": {"template": "d"}},
    {"id": "c", "uses": "template.render", "needs": ["b"], "with": {"template": "c"}},
    {"id": "e", "uses": "template.render", "needs": ["a", "x"], "with": {"template": "e"}},
    {"id": "b", "uses": "template.render", "needs": ["a"], "with": {"template": "b"}},
    {"id": "a", "uses": "template.render", "with": {"template": "a"}},
    {"id": "x", "uses": "template.render", "with": {"template": "x"}},
]}


def statuses(db, run_id: int) -> dict[str, str]:
    db.session.rollback()
    return dict(db.session.execute(select(StepRun.step_key, StepRun.status).where(StepRun.run_id == run_id)).all())


def current_job(db, run_id: int, key: str) -> tuple[int, str]:
    step = db.session.scalars(select(StepRun).where(StepRun.run_id == run_id, StepRun.step_key == key)).one()
    found = step.id, step.rq_job_id
    db.session.rollback()
    return found


def finish(db, run_id: int, key: str, outcome) -> None:
    """Claim step ``key``'s current attempt and save ``outcome`` for it."""
    step_id, job_id = current_job(db, run_id, key)
    attempt = execution.claim(step_id, job_id, run_id)
    assert attempt is not None
    execution.save_outcome(step_id, job_id, outcome, run_id=run_id, reserved=attempt.reserved)


def run_status(db, run_id: int) -> str:
    db.session.rollback()
    return db.session.scalar(select(WorkflowRun.status).where(WorkflowRun.id == run_id))


def test_a_success_queues_the_steps_it_decides_and_no_other(db, redis, make_workflow, operator):
    make_workflow(DEFINITION)
    run_id = actions.trigger_run("graph", {}, operator)[0].id
    db.session.commit()
    assert statuses(db, run_id) == {"a": "queued", "x": "queued", "b": "pending", "c": "pending",
                                    "d": "pending", "e": "pending"}
    finish(db, run_id, "a", StepResult(output="a"))
    assert statuses(db, run_id) == {"a": "succeeded", "x": "queued", "b": "queued", "c": "pending",
                                    "d": "pending", "e": "pending"}
    for key in ("x", "b", "e", "c", "d"):
        finish(db, run_id, key, StepResult(output=key))
    assert set(statuses(db, run_id).values()) == {"succeeded"}
    assert run_status(db, run_id) == "succeeded"


def test_a_failure_skips_everything_downstream_transitively_then_the_run_fails(db, redis, make_workflow, operator):
    make_workflow(DEFINITION)
    run_id = actions.trigger_run("graph", {}, operator)[0].id
    db.session.commit()
    finish(db, run_id, "a", execution.Failure("boom", retryable=False))
    assert statuses(db, run_id) == {"a": "failed", "x": "queued", "b": "skipped", "c": "skipped",
                                    "d": "skipped", "e": "skipped"}
    assert run_status(db, run_id) == "running"  # x still runs
    finish(db, run_id, "x", StepResult(output="x"))
    assert run_status(db, run_id) == "failed"


def claimed_outputs(db, run_id: int, key: str) -> dict:
    """The upstream outputs the claim of step ``key`` hands its attempt."""
    step_id, job_id = current_job(db, run_id, key)
    attempt = execution.claim(step_id, job_id, run_id)
    assert attempt is not None
    return attempt.outputs


def test_a_claim_reads_the_outputs_its_templates_name_and_no_other(db, redis, make_workflow, operator):
    make_workflow({"name": "reads", "steps": [
        {"id": "a", "uses": "template.render", "with": {"template": "a"}},
        {"id": "b", "uses": "template.render", "needs": ["a"], "with": {"template": "b"}},
        {"id": "c", "uses": "template.render", "needs": ["b"], "with": {"template": "{{ steps.a.output }}!"}},
        {"id": "d", "uses": "template.render", "needs": ["c"], "with": {"template": "plain"}},
        {"id": "e", "uses": "template.render", "needs": ["d"],
         "with": {"template": "{% for name in steps %}{{ name }} {% endfor %}"}},
    ]})
    run_id = actions.trigger_run("reads", {}, operator)[0].id
    db.session.commit()
    finish(db, run_id, "a", StepResult(output="A"))
    finish(db, run_id, "b", StepResult(output="B"))
    assert claimed_outputs(db, run_id, "c") == {"a": "A"}  # two steps up, named; b is not read
    execution.save_outcome(*current_job(db, run_id, "c"), StepResult(output="C"), run_id=run_id)
    assert claimed_outputs(db, run_id, "d") == {}  # no template: nothing to read
    execution.save_outcome(*current_job(db, run_id, "d"), StepResult(output="D"), run_id=run_id)
    assert claimed_outputs(db, run_id, "e") == {"a": "A", "b": "B", "c": "C", "d": "D"}  # reads ``steps`` whole



def statements_of(db, action) -> list[str]:
    """The SQL statements ``action()`` sends."""
    sent: list[str] = []

    def note(conn, cursor, statement, parameters, context, executemany):
        sent.append(statement)

    event.listen(db.engine, "before_cursor_execute", note)
    try:
        action()
    finally:
        event.remove(db.engine, "before_cursor_execute", note)
    return sent


def test_a_record_that_queued_a_step_reads_no_run_state_when_no_step_can_wait(db, redis, make_workflow, operator):
    make_workflow({"name": "plain", "steps": [
        {"id": "a", "uses": "template.render", "with": {"template": "a"}},
        {"id": "b", "uses": "template.render", "needs": ["a"], "with": {"template": "b"}},
        {"id": "c", "uses": "template.render", "needs": ["b"], "with": {"template": "c"}},
    ]})
    run_id = actions.trigger_run("plain", {}, operator)[0].id
    db.session.commit()
    sent = statements_of(db, lambda: finish(db, run_id, "a", StepResult(output="a")))
    assert statuses(db, run_id) == {"a": "succeeded", "b": "queued", "c": "pending"}
    assert run_status(db, run_id) == "running"
    assert [statement for statement in sent if "SELECT DISTINCT step_runs.status" in statement] == []
    sent = statements_of(db, lambda: finish(db, run_id, "b", StepResult(output="b")))  # a chain's middle
    assert [statement for statement in sent if "SELECT DISTINCT step_runs.status" in statement] == []


def test_a_record_in_a_run_with_a_waiting_gate_keeps_the_run_paused_for_it(db, redis, make_workflow, operator):
    """A gate waits on one branch while the other goes on: queuing the other branch's next step
    must not take the run out of its pause for the approval."""
    make_workflow({"name": "branches", "steps": [
        {"id": "gate", "uses": "gate.approval", "with": {"prompt": "Ship it?"}},
        {"id": "a", "uses": "template.render", "with": {"template": "a"}},
        {"id": "b", "uses": "template.render", "needs": ["a"], "with": {"template": "b"}},
    ]})
    run_id = actions.trigger_run("branches", {}, operator)[0].id
    db.session.commit()
    assert statuses(db, run_id) == {"gate": "waiting_approval", "a": "queued", "b": "pending"}
    assert run_status(db, run_id) == "paused"
    sent = statements_of(db, lambda: finish(db, run_id, "a", StepResult(output="a")))
    assert statuses(db, run_id) == {"gate": "waiting_approval", "a": "succeeded", "b": "queued"}
    assert run_status(db, run_id) == "paused"
    assert [statement for statement in sent if "SELECT DISTINCT step_runs.status" in statement]
