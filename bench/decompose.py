"""Decomposition: planning time by tree size, and run-time fan-out against a static fan-out.

1. Planning (read the tree, build the steps, plan them with an empty history) of layered
   trees of 100, 1,000 and 5,000 tasks (layers of 10, each task needing two of the layer
   before); p50 and fastest of ``--repeat`` rounds, the time per task, and the growth ratios, which stay
   near 10x and 5x when planning is linear. The caps are bypassed here: they stop at 500.
2. One run on ``--workers`` real ``flask worker`` processes: 200 independent
   ``template.render`` steps (static fan-out), then a ``task.decompose`` over 200 items whose
   child workflow is one ``template.render`` step (``max_children`` 50), then the same over
   200 items with no ``child_workflow``: the ``explicit`` strategy plans that one-step workflow
   in the attempt. Prints steps per second and children per second, each from the first start
   to the last finish of its part.

    .venv/bin/python bench/decompose.py [--repeat 9] [--items 200] [--workers 2]

Creates and drops its own PostgreSQL database on BENCH_DATABASE_URL's server and flushes the
Redis db of BENCH_REDIS_URL (default db 14) before and after.
"""
from __future__ import annotations

import argparse
import gc
import os
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_app  # noqa: E402

SIZES = (100, 1000, 5000)



def layered_tree(size: int, width: int = 10) -> dict:
    tasks = []
    for index in range(size):
        layer, slot = divmod(index, width)
        needs = [f"t{(layer - 1) * width + (slot + k) % width}" for k in (0, 1)] if layer else []
        tasks.append({"id": f"t{index}", "uses": "control.sleep", "with": {"seconds": 0}, "timeout": 1 + slot,
                      "depends_on": needs})
    return {"tasks": tasks}


def planning(repeat: int) -> None:
    from webapp.decomposition.history import load_history
    from webapp.decomposition.planning import plan_steps
    from webapp.decomposition.tree import read_tree, to_steps

    print(f"planning a layered tree ({repeat} rounds; the ratio compares the fastest rounds, the least disturbed "
          f"by other processes on a shared machine)")
    print(f"{'tasks':>6} {'p50 ms':>9} {'min ms':>9} {'us/task':>8} {'ratio':>6}")
    previous = None
    for size in SIZES:
        tree = layered_tree(size)
        times = []
        for _ in range(repeat):
            gc.collect()
            started = time.perf_counter()
            flat = read_tree(tree, max_tasks=size, max_depth=8)
            steps = to_steps(flat)
            plan = plan_steps(steps, load_history({step["uses"] for step in steps}))
            times.append(time.perf_counter() - started)
        assert plan["task_count"] == size and plan["max_parallelism"] == 10
        p50, fastest = statistics.median(times), min(times)
        ratio = f"x{fastest / previous:.1f}" if previous else "-"
        print(f"{size:>6} {p50 * 1000:>9.1f} {fastest * 1000:>9.1f} {fastest / size * 1e6:>8.1f} {ratio:>6}")
        previous = fastest


def fan_out(items: int, workers: int, env: dict[str, str]) -> None:
    from sqlalchemy import func, select

    from webapp.extensions import db
    from webapp.runs import actions
    from webapp.runs.models import StepRun, WorkflowRun
    from webapp.users.service import create_user
    from webapp.workflows.service import create_workflow

    render = [{"id": "render", "uses": "template.render", "with": {"template": "{{ params.item }}"}}]
    create_workflow({"name": "bench-child", "params": {"item": {"type": "integer", "required": True}},
                     "steps": render})
    static = [{"id": f"s{index}", "uses": "template.render", "with": {"template": f"{index}"}}
              for index in range(items)]
    create_workflow({"name": "bench-fan", "params": {"plan": {"type": "object", "default": {"tasks": render}}},
                     "steps": [
        *static,
        {"id": "join", "uses": "template.render", "needs": [step["id"] for step in static], "with": {"template": "x"}},
        {"id": "fan", "uses": "task.decompose", "needs": ["join"],
         "with": {"items": list(range(items)), "child_workflow": "bench-child", "max_children": 50}},
        {"id": "planned", "uses": "task.decompose", "needs": ["fan"],
         "with": {"items": list(range(items)), "strategy": "explicit", "goal": "render each",
                  "input": "{{ params.plan }}", "max_children": 50}}]})
    user = create_user("bench@example.com", "correct horse battery staple", role="operator")
    db.session.commit()
    processes = [subprocess.Popen([str(BIN / "flask"), "worker", "--name", f"bench-decompose-{os.getpid()}-{index}"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True) for index in range(workers)]
    try:
        run, _ = actions.trigger_run("bench-fan", {}, user)
        deadline = time.monotonic() + 600
        while True:
            db.session.expire_all()
            status = db.session.scalar(select(WorkflowRun.status).where(WorkflowRun.id == run.id))
            if status in ("succeeded", "failed", "cancelled"):
                break
            if time.monotonic() > deadline:
                raise SystemExit("the run did not finish in 10 minutes")
            db.session.rollback()
            time.sleep(0.2)
        assert status == "succeeded", status
        first, last = db.session.execute(select(func.min(StepRun.started_at), func.max(StepRun.finished_at)).where(
            StepRun.run_id == run.id, StepRun.step_key.like("s%"))).one()
        spans = {key: db.session.execute(select(func.min(WorkflowRun.started_at), func.max(WorkflowRun.finished_at))
                                         .join(StepRun, StepRun.id == WorkflowRun.parent_step_run_id)
                                         .where(WorkflowRun.parent_run_id == run.id, StepRun.step_key == key)).one()
                 for key in ("fan", "planned")}
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)
    static_rate = items / (last - first).total_seconds()
    print(f"one run on {workers} workers: {items} static steps, then task.decompose over {items} items, "
          f"of a child workflow and then of a planned one")
    print(f"static fan-out: {static_rate:>7.1f} steps/s   ({(last - first).total_seconds():.2f} s)")
    rates = {}
    for key, label in (("fan", "child runs:"), ("planned", "planned runs:")):
        seconds = (spans[key][1] - spans[key][0]).total_seconds()
        rates[key] = items / seconds
        print(f"{label:<15} {rates[key]:>7.1f} children/s ({seconds:.2f} s)")
    print(f"children/s against steps/s: {rates['fan'] / static_rate:.2f} (child workflow), "
          f"{rates['planned'] / static_rate:.2f} (planned by the strategy)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--items", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with scratch_app(config={"TESTING": True}):
        planning(args.repeat)
        fan_out(args.items, args.workers, dict(os.environ))

if __name__ == "__main__":
    main()
