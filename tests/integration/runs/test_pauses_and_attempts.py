"""Pause reasons, every attempt kept, and failures that a retry cannot fix, with real workers."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.integration.runs.conftest import counted, executions, wait_for_run, wait_until
from webapp.audit.models import AuditEvent
from webapp.exceptions import IllegalTransition
from webapp.extensions import db as _db
from webapp.runs import actions
from webapp.runs.engine import advance, lift_pause, lock_run, pause_run, settle
from webapp.runs.models import StepAttempt
from webapp.runs.reconcile import reconcile
from webapp.runs.service import get_run


def nap(step_id: str, seconds: float, needs: list[str] | None = None) -> dict:
    return {"id": step_id, "uses": "control.sleep", "needs": needs or [], "with": {"seconds": seconds}}


def hold_for_budget(run_id: int) -> None:
    """What the budget service does when a step's reservation is refused."""
    run = lock_run(run_id)
    pause_run(run, "budget", "spend would pass the test budget")
    _db.session.commit()


def test_a_budget_pause_survives_settle_the_reconciler_and_a_worker_restart(
        db, redis, workers, make_workflow, operator):
    make_workflow({"name": "spender", "steps": [nap("first", 1), counted("second", ["first"])]})
    workers.start(1)
    run = actions.trigger_run("spender", {}, operator)[0]
    wait_until(lambda: get_run(run.id).step("first").status == "running", what="first to start")
    hold_for_budget(run.id)
    wait_until(lambda: get_run(run.id).step("first").status == "succeeded", what="the running step to finish")

    locked = lock_run(run.id)
    settle(locked)
    advance(locked)
    db.session.commit()
    reconcile(grace_seconds=0)
    workers.stop()
    workers.start(1)
    reconcile(grace_seconds=0)

    run = get_run(run.id)
    assert (run.status, run.pause_reason, run.step("second").status) == ("paused", "budget", "pending")
    assert executions(redis, f"{run.id}-second") == 0
    with pytest.raises(IllegalTransition, match="raise or reset the budget"):
        actions.resume(run.id, operator)  # an operator's resume does not lift a budget's hold
    db.session.rollback()

    assert lift_pause(lock_run(run.id), "operator") is False  # only its own cause lifts it
    assert lift_pause(lock_run(run.id), "budget") is True
    db.session.commit()
    run = wait_for_run(run.id)
    assert run.status == "succeeded" and run.pause_reason is None, workers.logs()
    assert executions(redis, f"{run.id}-second") == 1


def test_an_operator_pause_lets_running_steps_finish_and_starts_nothing_until_resumed(
        client, api_headers, workers, make_workflow, redis):
    make_workflow({"name": "pausable", "steps": [nap("slow", 1.5), counted("later", ["slow"])]})
    workers.start(1)
    headers, operator_user = api_headers("operator")
    operator_id = operator_user.id
    run_id = client.post("/api/v3/workflows/pausable/runs", json={}, headers=headers).get_json()["run"]["id"]
    wait_until(lambda: get_run(run_id).step("slow").status == "running", what="slow to start")

    paused = client.post(f"/api/v3/runs/{run_id}/pause", json={"reason": "maintenance"}, headers=headers)
    body = paused.get_json()["run"]
    assert paused.status_code == 200 and (body["status"], body["pause_reason"]) == ("paused", "operator")
    assert body["pause_note"] == "maintenance" and body["paused_at"]
    again = client.post(f"/api/v3/runs/{run_id}/pause", json={}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "illegal_state"

    wait_until(lambda: get_run(run_id).step("slow").status == "succeeded", what="the running step to finish")
    reconcile(grace_seconds=0)
    run = get_run(run_id)
    assert (run.status, run.step("later").status) == ("paused", "pending")
    assert executions(redis, f"{run_id}-later") == 0

    resumed = client.post(f"/api/v3/runs/{run_id}/resume", json={}, headers=headers)
    assert resumed.status_code == 200 and resumed.get_json()["run"]["pause_reason"] is None
    run = wait_for_run(run_id)
    assert run.status == "succeeded" and executions(redis, f"{run_id}-later") == 1
    _db.session.expire_all()
    audited = _db.session.execute(select(AuditEvent.event, AuditEvent.actor_id).where(
        AuditEvent.target_type == "run", AuditEvent.target_id == str(run_id)).order_by(AuditEvent.id)).all()
    assert [event for event, _ in audited] == ["run.trigger", "run.pause", "run.resume"]
    assert {actor for _, actor in audited} == {operator_id}


def test_a_step_that_failed_twice_then_succeeded_shows_three_attempts_with_their_errors(
        client, api_headers, login_as, workers, make_workflow):
    make_workflow({"name": "flaky", "steps": [
        {"id": "wobbly", "uses": "control.fail", "with": {"times": 2, "message": "not yet"},
         "retry": {"max": 3, "backoff": [0.2]}}]})
    workers.start(1)
    headers, operator = api_headers("operator")
    run_id = client.post("/api/v3/workflows/flaky/runs", json={}, headers=headers).get_json()["run"]["id"]
    assert wait_for_run(run_id).status == "succeeded"

    step = client.get(f"/api/v3/runs/{run_id}", headers=headers).get_json()["run"]["steps"][0]
    attempts = step["attempts"]
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, "failed"), (2, "failed"), (3, "succeeded")]
    assert "not yet (attempt 1" in attempts[0]["error"] and "not yet (attempt 2" in attempts[1]["error"]
    assert attempts[2]["error"] is None
    for attempt in attempts:
        assert attempt["queue"] == "default" and attempt["worker"]
        assert attempt["queued_at"] <= attempt["started_at"] <= attempt["finished_at"]
    assert attempts[1]["queued_at"] >= attempts[0]["finished_at"]  # the retry waited out its backoff

    login_as("viewer")
    page = client.get(f"/runs/{run_id}").get_data(as_text=True)
    assert page.count('<tr data-attempt="') == 3 and page.count('class="gantt-bar') == 3
    assert "not yet (attempt 1" in page and "not yet (attempt 2" in page


def test_a_failure_a_retry_cannot_fix_spends_no_retry(db, workers, make_workflow, operator):
    make_workflow({"name": "hopeless", "params": {"seconds": {"type": "string", "default": "soon"}}, "steps": [
        {"id": "badly_typed", "uses": "control.sleep", "with": {"seconds": "{{ params.seconds }}"},
         "retry": {"max": 5, "backoff": [0]}}]})
    workers.start(1)
    run = wait_for_run(actions.trigger_run("hopeless", {}, operator)[0].id)
    step = run.step("badly_typed")
    assert run.status == "failed" and step.status == "failed"
    assert (step.attempt, step.retries) == (1, 0)
    assert "inputs for control.sleep are not valid" in step.error
    attempts = db.session.execute(select(StepAttempt).where(StepAttempt.step_run_id == step.id)).scalars().all()
    assert [(a.attempt, a.status) for a in attempts] == [(1, "failed")]
