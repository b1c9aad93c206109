"""What auto checkpoints store for one fan-out run: references to attempts, against full copies.

One run of N independent ``template.render`` steps (each output about 60 bytes) is executed in
this process, step by step, through the engine's own claim/perform/record. Then it prints:
- the bytes the checkpoints store now (their ``steps`` references, as JSON);
- the bytes the step outputs take once, in ``step_attempts``;
- the bytes the same checkpoints would store as full copies of every completed output (the
  format before checkpoints referred to attempts), computed from the same run;
- the same two figures at N/2, to show how each grows with the run's size.

    .venv/bin/python bench/checkpoints.py [--steps 200]

Creates and drops its own PostgreSQL database on BENCH_DATABASE_URL's server and flushes the
Redis db of BENCH_REDIS_URL (default db 14) before and after.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_app  # noqa: E402


def fan_out(name: str, steps: int) -> dict:
    return {"name": name, "steps": [
        {"id": f"s{index}", "uses": "template.render",
         "with": {"template": f"step {index} of run {{{{ run.id }}}} rendered this line of output"}}
        for index in range(steps)]}


def measure(steps: int) -> dict[str, int]:
    """Run one fan-out of ``steps`` to the end in this process; the stored bytes by kind."""
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.runs import actions
    from webapp.runs.checkpoints import fold
    from webapp.runs.execution import execute_step
    from webapp.runs.models import Checkpoint, StepAttempt, StepRun
    from webapp.users.service import create_user
    from webapp.workflows.service import create_workflow

    create_workflow(fan_out(f"fan-{steps}", steps))
    user = create_user(f"bench-{steps}@example.com", "correct horse battery staple", role="operator")
    db.session.commit()
    run, _ = actions.trigger_run(f"fan-{steps}", {}, user)
    for step_run_id, job_id in db.session.execute(select(StepRun.id, StepRun.rq_job_id)
                                                  .where(StepRun.run_id == run.id)).all():
        execute_step(step_run_id, job_id)
    checkpoints = db.session.execute(select(Checkpoint).where(Checkpoint.run_id == run.id)).scalars().all()
    outputs = dict(db.session.execute(select(StepRun.step_key, StepAttempt.output)
                                      .join(StepAttempt, StepAttempt.step_run_id == StepRun.id)
                                      .where(StepRun.run_id == run.id)).all())
    covered = fold(list(checkpoints))
    copies = sum(len(json.dumps({"params": run.params, "completed": {key: outputs[key] for key in covered[c.id]}}))
                 for c in checkpoints)
    return {"checkpoints": len(checkpoints), "references": sum(len(json.dumps(c.steps)) for c in checkpoints),
            "outputs_once": sum(len(json.dumps(value)) for value in outputs.values()), "copies": copies}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=200)
    args = parser.parse_args()
    with scratch_app(config={"TESTING": True}):
        half, full = measure(args.steps // 2), measure(args.steps)
    print("fan-out of N template.render steps, one auto checkpoint per completed step")
    print(f"{'N':>5} {'checkpoints':>12} {'references':>11} {'outputs once':>13} {'as full copies':>15}")
    for steps, figures in ((args.steps // 2, half), (args.steps, full)):
        print(f"{steps:>5} {figures['checkpoints']:>12} {figures['references']:>9} B "
              f"{figures['outputs_once']:>11} B {figures['copies']:>13} B")
    print(f"growth from N/2 to N: references x{full['references'] / half['references']:.2f}, "
          f"full copies x{full['copies'] / half['copies']:.2f}")
    print(f"at N={args.steps}: references + outputs once = {full['references'] + full['outputs_once']} B, "
          f"{full['copies'] / (full['references'] + full['outputs_once']):.0f}x less than full copies")

if __name__ == "__main__":
    main()
