"""Saving a step's outcome rides out transient database errors; one that cannot be saved is
retried without spending the step's retries; an unreadable stop flag never fails a step."""
from __future__ import annotations

import socket
import subprocess
from contextlib import contextmanager

import psycopg
import pytest
from redis import Redis
from sqlalchemy import event, select, update
from sqlalchemy.exc import OperationalError

from webapp.runs import actions, dispatch, execution
from webapp.runs.models import StepAttempt, StepRun
from webapp.runs.reconcile import reconcile
from webapp.runs.service import get_run


@contextmanager
def failing_saves(db, times: int):
    """The first ``times`` UPDATEs of step_attempts raise a dropped-connection error."""
    left = {"count": times}

    def drop(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith("UPDATE step_attempts") and left["count"] > 0:
            left["count"] -= 1
            raise OperationalError(statement, parameters, psycopg.OperationalError("server closed the connection"))

    event.listen(db.engine, "before_cursor_execute", drop)
    try:
        yield left
    finally:
        event.remove(db.engine, "before_cursor_execute", drop)


def one_step_run(db, make_workflow, operator, retries: int = 0):
    make_workflow({"name": "saver", "steps": [
        {"id": "only", "uses": "template.render", "with": {"template": "hi"}, "retry": {"max": retries}}]})
    run = actions.trigger_run("saver", {}, operator)[0]
    step = db.session.execute(select(StepRun).where(StepRun.run_id == run.id)).scalar_one()
    return run.id, step.id, step.rq_job_id


def test_a_transient_error_while_saving_the_outcome_is_ridden_out(db, redis, make_workflow, operator, monkeypatch):
    monkeypatch.setattr(execution, "RECORD_RETRY_DELAYS", (0, 0, 0))
    run_id, step_id, job_id = one_step_run(db, make_workflow, operator)
    with failing_saves(db, 2) as left:
        execution.execute_step(step_id, job_id)
    run = get_run(run_id)
    assert left["count"] == 0 and run.status == "succeeded"
    assert (run.step("only").attempt, run.step("only").retries, run.step("only").output) == (1, 0, "hi")


def test_an_outcome_that_cannot_be_saved_is_retried_without_spending_a_retry(
        db, redis, make_workflow, operator, monkeypatch):
    monkeypatch.setattr(execution, "RECORD_RETRY_DELAYS", (0, 0))
    run_id, step_id, job_id = one_step_run(db, make_workflow, operator, retries=0)
    with failing_saves(db, 10), pytest.raises(OperationalError):
        execution.execute_step(step_id, job_id)
    dead = subprocess.Popen(["true"])
    dead.wait()  # the horse that ran it has retired: its pid no longer exists
    db.session.execute(update(StepRun).where(StepRun.id == step_id)
                       .values(worker=f"{socket.gethostname()}:{dead.pid}"))
    db.session.commit()

    assert reconcile(grace_seconds=0).crashed == 1
    step = get_run(run_id).step("only")
    assert (step.status, step.attempt, step.retries) == ("queued", 2, 0)
    first = db.session.execute(select(StepAttempt).where(StepAttempt.step_run_id == step_id,
                                                         StepAttempt.attempt == 1)).scalar_one()
    assert first.status == "crashed" and "could not be saved: the database was unavailable" in first.error

    execution.execute_step(step_id, step.rq_job_id)
    assert get_run(run_id).status == "succeeded"


def test_a_stop_flag_that_cannot_be_read_means_carry_on(app, monkeypatch):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    unreachable = Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2, socket_timeout=0.2)
    monkeypatch.setattr(dispatch, "redis_connection", lambda: unreachable)
    with app.app_context():
        assert dispatch.stop_requested(1) is False
