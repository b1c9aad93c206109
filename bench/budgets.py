"""Benchmark budget enforcement: the same fan-out of spending steps with and without three budgets.

Each step is an ``llm.complete`` on the offline provider, so it spends and reserves. The
"budgets" rounds have three active budgets that apply to every step (global ``alert``, the
workflow's ``pause``, the triggering user's ``block``), each far from its limit, so what is
measured is the reservation and settle work. Rounds alternate (none, budgets, then budgets,
none, and so on, so that runs slowing down as the database grows, or the machine's load, weigh
on both alike) on the same workers, database and Redis, and the report gives steps/second of
each, the ratio budgets/none of the medians (the target is at least 0.9) and the median of the
ratios of each pair of neighbouring rounds. Then, with the workers stopped, the same rounds run
their attempts one after another in this process, which times the budget work per attempt
without the workers' scheduling around it; and a last pass, on workers that count their
statements (bench/sql_count.py), gives the SQL per step each way.

    .venv/bin/python bench/budgets.py [--steps 100] [--rounds 6] [--workers 2]

Creates and drops its own PostgreSQL database on BENCH_DATABASE_URL's server and flushes the
Redis db of BENCH_REDIS_URL (default db 14) before and after, like bench/engine.py.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.engine import BIN, wait  # noqa: E402
from bench.scratch import scratch_app  # noqa: E402


def timed_run(slug: str, steps: int, user) -> float:
    from webapp.extensions import db
    from webapp.runs import actions
    from webapp.runs.service import get_run

    started = time.perf_counter()
    run_id = actions.trigger_run(slug, {}, user)[0].id

    def finished():
        db.session.rollback()
        return get_run(run_id).status in ("succeeded", "failed", "paused")

    wait(finished, f"run {slug}")
    elapsed = time.perf_counter() - started
    run = get_run(run_id)
    assert run.status == "succeeded" and len(run.steps) == steps, (run.status, run.error)
    return elapsed


def set_budgets(active: bool) -> None:
    """Through the ORM, as the service writes them, so every worker's copy of the budgets renews."""
    from webapp.costs.budget_models import Budget
    from webapp.extensions import db

    for budget in db.session.query(Budget).all():
        budget.active = active
    db.session.commit()


def start_workers(env: dict[str, str], count: int, workers: list[subprocess.Popen]) -> list[subprocess.Popen]:
    started = [subprocess.Popen([str(BIN / "flask"), "worker", "--name", f"bench-{os.getpid()}-{len(workers) + i}"],
                                cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
               for i in range(count)]
    workers.extend(started)
    return started


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=30)


def count_statements(args, env: dict[str, str], workers: list[subprocess.Popen], user) -> dict[bool, dict]:
    """Statements per step each way, sent by workers that load bench/sql_count.py."""
    from bench.sql_count import KEY, SHAPES_KEY
    from webapp.queues import redis_connection

    counting = start_workers({**env, "STEP_PLUGINS": "bench.sql_count"}, args.workers, workers)
    counts = {}
    try:
        for active in (False, True):
            set_budgets(active)
            redis_connection().delete(KEY, SHAPES_KEY)
            timed_run("bench-spend", args.steps, user)
            totals = redis_connection().hgetall(KEY)
            shapes = {k.decode(): int(v) / args.steps for k, v in redis_connection().hgetall(SHAPES_KEY).items()}
            counts[active] = {"statements": int(totals.get(b"statements", 0)) / args.steps, "shapes": shapes}
    finally:
        stop_workers(counting)
    return counts


def in_process(args, user) -> dict[bool, list[float]]:
    """Milliseconds per step attempt (claim, execute, save the outcome) run here, one after the
    other, with no worker: the budget work with none of the workers' scheduling around it."""
    from webapp.runs import actions
    from webapp.runs.execution import execute_step

    per_step: dict[bool, list[float]] = {False: [], True: []}
    for index in range(args.rounds * 2):
        active = (index % 4) in (1, 2)  # none, budgets, budgets, none, ...
        set_budgets(active)
        run = actions.trigger_run("bench-spend", {}, user)[0]
        jobs = [(step.id, step.rq_job_id) for step in run.steps]
        for step_run_id, job_id in jobs:
            started = time.perf_counter()
            execute_step(step_run_id, job_id)
            per_step[active].append((time.perf_counter() - started) * 1000)
    return per_step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    workers: list[subprocess.Popen] = []
    with scratch_app() as (_app, env):
        try:
            run_bench(args, env, workers)
        finally:
            stop_workers(workers)


def run_bench(args, env: dict[str, str], workers: list[subprocess.Popen]) -> None:
    from webapp.costs.service import create_budget
    from webapp.extensions import db
    from webapp.queues import redis_connection
    from webapp.users.service import create_user
    from webapp.workflows.service import create_workflow

    user = create_user(f"bench-{secrets.token_hex(3)}@example.com", secrets.token_urlsafe(16), role="operator")
    step = {"uses": "llm.complete",
            "with": {"model": "local-small", "prompt": "count these words", "max_tokens": 8}}
    create_workflow({"name": "bench-spend", "steps": [{"id": f"s{i}", **step} for i in range(args.steps)]})
    db.session.flush()
    plenty = Decimal("1000000")
    create_budget(scope="global", scope_id=None, period="day", limit=plenty, on_exceed="alert")
    create_budget(scope="workflow", scope_id="bench-spend", period="month", limit=plenty, on_exceed="pause")
    create_budget(scope="user", scope_id=user.id, period="total", limit=plenty, on_exceed="block")
    db.session.commit()
    timed = start_workers(env, args.workers, workers)
    set_budgets(False)
    timed_run("bench-spend", args.steps, user)  # warm-up: workers up, imports done
    times: dict[bool, list[float]] = {False: [], True: []}
    for index in range(args.rounds):  # none, budgets, budgets, none, ...: a drift hurts both alike
        for active in (False, True) if index % 2 == 0 else (True, False):
            set_budgets(active)
            times[active].append(timed_run("bench-spend", args.steps, user))
    none, budgets = (statistics.median(times[flag]) for flag in (False, True))
    print(f"== {args.steps} llm.complete steps per run, {args.workers} worker processes, {args.rounds} rounds each")
    print(f"  no budgets     median {none:6.2f}s  {args.steps / none:7.1f} steps/s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in times[False])})")
    print(f"  three budgets  median {budgets:6.2f}s  {args.steps / budgets:7.1f} steps/s  "
          f"(runs: {', '.join(f'{t:.2f}' for t in times[True])})")
    pairs = [n / b for n, b in zip(times[False], times[True], strict=True)]
    print(f"  throughput ratio budgets/none {none / budgets:5.2f}x (target >= 0.90); median of the pairs "
          f"{statistics.median(pairs):.2f}x ({', '.join(f'{pair:.2f}x' for pair in pairs)})")
    stop_workers(timed)
    redis_connection().flushdb()  # what the stopped workers left queued
    hooks = {active: statistics.median(times_ms) for active, times_ms in in_process(args, user).items()}
    redis_connection().flushdb()  # the jobs of the runs executed here, which no worker must see
    print(f"  in this process, one attempt after another ({args.rounds * args.steps} each way): p50 "
          f"{hooks[False]:.2f} ms without budgets, {hooks[True]:.2f} ms with, {hooks[True] - hooks[False]:+.2f} ms")
    counted = count_statements(args, env, workers, user)
    more = {shape: counted[True]["shapes"].get(shape, 0) - counted[False]["shapes"].get(shape, 0)
            for shape in {*counted[True]["shapes"], *counted[False]["shapes"]}}
    print(f"  SQL per step in the workers: {counted[False]['statements']:.1f} statements without budgets, "
          f"{counted[True]['statements']:.1f} with; by shape, with minus without: "
          + ", ".join(f"{shape} {count:+.1f}" for shape, count in sorted(more.items()) if abs(count) >= 0.05))


if __name__ == "__main__":
    main()
