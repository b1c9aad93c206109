"""Checkpoints refer to attempts: each auto checkpoint stores only the step that completed, the
chain folds back to exactly the completed outputs, and deleting one keeps the later ones exact."""
from __future__ import annotations

import json

from sqlalchemy import select

from webapp.runs import actions
from webapp.runs.checkpoints import checkpoint_state, covered_steps
from webapp.runs.execution import execute_step
from webapp.runs.models import Checkpoint, StepRun
from webapp.runs.service import get_run


def fan_out(name: str, steps: int) -> dict:
    return {"name": name, "steps": [{"id": f"s{i}", "uses": "template.render", "with": {"template": f"out {i}"}}
                                    for i in range(steps)]}


def run_in_process(db, redis, make_workflow, operator, steps: int):
    """Trigger a fan-out and execute every step here, in trigger order, through the executor."""
    make_workflow(fan_out(f"fan-{steps}", steps))
    run = actions.trigger_run(f"fan-{steps}", {}, operator)[0]
    for step_run_id, job_id in db.session.execute(select(StepRun.id, StepRun.rq_job_id)
                                                  .where(StepRun.run_id == run.id).order_by(StepRun.id)).all():
        execute_step(step_run_id, job_id)
    return get_run(run.id)


def checkpoints_of(db, run_id: int) -> list[Checkpoint]:
    return list(db.session.execute(select(Checkpoint).where(Checkpoint.run_id == run_id)
                                   .order_by(Checkpoint.seq)).scalars())


def test_each_auto_checkpoint_after_the_first_stores_one_reference(db, redis, make_workflow, operator):
    run = run_in_process(db, redis, make_workflow, operator, 30)
    checkpoints = checkpoints_of(db, run.id)
    assert run.status == "succeeded" and len(checkpoints) == 30
    assert checkpoints[0].parent_id is None and checkpoints[0].steps == {"s0": 1}
    for previous, checkpoint in zip(checkpoints, checkpoints[1:], strict=False):
        assert checkpoint.parent_id == previous.id and len(checkpoint.steps) == 1


def test_stored_references_grow_linearly_while_copies_would_grow_with_the_square(
        db, redis, make_workflow, operator):
    small = checkpoints_of(db, run_in_process(db, redis, make_workflow, operator, 20).id)
    large_run = run_in_process(db, redis, make_workflow, operator, 40)
    large = checkpoints_of(db, large_run.id)
    stored = [sum(len(json.dumps(c.steps)) for c in rows) for rows in (small, large)]
    copies = [sum(len(covered_steps(c)) for c in rows) for rows in (small, large)]
    assert stored[1] / stored[0] < 2.3
    assert copies[1] / copies[0] > 3.5


def test_a_folded_checkpoint_gives_exactly_the_outputs_completed_at_that_moment(db, redis, make_workflow, operator):
    run = run_in_process(db, redis, make_workflow, operator, 6)
    checkpoint = checkpoints_of(db, run.id)[2]
    assert checkpoint_state(checkpoint, run) == {"params": {}, "completed": {"s0": "out 0", "s1": "out 1",
                                                                               "s2": "out 2"}}


def test_deleting_a_checkpoint_keeps_the_later_ones_exact(db, redis, make_workflow, operator):
    run = run_in_process(db, redis, make_workflow, operator, 5)
    checkpoints = checkpoints_of(db, run.id)
    before = {c.seq: covered_steps(c) for c in checkpoints}
    actions.delete_checkpoint(checkpoints[1].id, operator)
    db.session.expire_all()
    after = {c.seq: covered_steps(c) for c in checkpoints_of(db, run.id)}
    assert set(after) == {1, 3, 4, 5} and all(after[seq] == before[seq] for seq in after)
