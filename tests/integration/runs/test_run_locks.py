"""How strongly each caller locks a run row: a step's claim waits for no other step's claim or
record, records of one run wait for each other, and an operator's lock stops both."""
from __future__ import annotations

from contextlib import contextmanager

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from webapp.runs import actions, engine, execution
from webapp.runs.models import StepRun
from webapp.steps.base import StepResult

HOLD = {"FOR KEY SHARE": "SELECT id FROM workflow_runs WHERE id = %s FOR KEY SHARE",
        "FOR NO KEY UPDATE": "SELECT id FROM workflow_runs WHERE id = %s FOR NO KEY UPDATE",
        "FOR UPDATE": "SELECT id FROM workflow_runs WHERE id = %s FOR UPDATE"}
# What another transaction holds on the run row while this one locks it: (lock, mode, waits).
MATRIX = [
    ("FOR KEY SHARE", "claim", False), ("FOR KEY SHARE", "record", False), ("FOR KEY SHARE", "exclusive", True),
    ("FOR NO KEY UPDATE", "claim", False), ("FOR NO KEY UPDATE", "record", True),
    ("FOR NO KEY UPDATE", "exclusive", True),
    ("FOR UPDATE", "claim", True), ("FOR UPDATE", "record", True), ("FOR UPDATE", "exclusive", True),
]


@contextmanager
def held_elsewhere(db, run_id: int, lock: str):
    """Another connection holds the run row with ``lock`` until the block ends."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url) as other:
        other.execute(HOLD[lock], (run_id,))
        yield
        other.rollback()


def give_up_after_a_second(db) -> None:
    """This transaction fails at once on a lock it would wait for (instead of waiting)."""
    db.session.execute(text("SET LOCAL lock_timeout = '1s'"))


def two_step_run(db, make_workflow, operator) -> tuple[int, list[StepRun]]:
    make_workflow({"name": "locks", "steps": [{"id": name, "uses": "template.render", "with": {"template": name}}
                                              for name in ("a", "b")]})
    run = actions.trigger_run("locks", {}, operator)[0]
    steps = list(db.session.scalars(select(StepRun).where(StepRun.run_id == run.id).order_by(StepRun.position)))
    db.session.commit()
    return run.id, steps


@pytest.mark.parametrize(("lock", "mode", "waits"), MATRIX)
def test_each_lock_mode_waits_only_for_what_it_must(db, redis, make_workflow, operator, lock, mode, waits):
    run_id, _ = two_step_run(db, make_workflow, operator)
    with held_elsewhere(db, run_id, lock):
        give_up_after_a_second(db)
        if waits:
            with pytest.raises(OperationalError, match="lock timeout"):
                engine.lock_run(run_id, mode=mode)
        else:
            assert engine.lock_run(run_id, mode=mode).id == run_id
        db.session.rollback()


def test_a_claim_starts_while_a_sibling_records_its_outcome(db, redis, make_workflow, operator):
    run_id, (first, second) = two_step_run(db, make_workflow, operator)
    with held_elsewhere(db, run_id, "FOR NO KEY UPDATE"):  # what the record of ``first`` holds
        give_up_after_a_second(db)
        attempt = execution.claim(second.id, second.rq_job_id, run_id)
    assert attempt is not None and db.session.get(StepRun, second.id).status == "running"


def test_a_claim_waits_for_an_operator_and_a_record_for_a_sibling_record(db, redis, make_workflow, operator):
    run_id, (first, second) = two_step_run(db, make_workflow, operator)
    with held_elsewhere(db, run_id, "FOR UPDATE"):  # what cancel and pause hold
        give_up_after_a_second(db)
        with pytest.raises(OperationalError, match="lock timeout"):
            execution.claim(second.id, second.rq_job_id, run_id)
        db.session.rollback()
    assert execution.claim(first.id, first.rq_job_id, run_id) is not None
    with held_elsewhere(db, run_id, "FOR NO KEY UPDATE"):  # the record of ``second``
        give_up_after_a_second(db)
        with pytest.raises(OperationalError, match="lock timeout"):
            execution.save_outcome(first.id, first.rq_job_id, StepResult(output="a"), run_id=run_id)
        db.session.rollback()
    execution.save_outcome(first.id, first.rq_job_id, StepResult(output="a"), run_id=run_id)
    assert db.session.get(StepRun, first.id).status == "succeeded"
