"""Benchmark budget enforcement: the same fan-out of spending steps with and without three budgets.

Each step is an ``llm.complete`` on the offline provider, so it spends and reserves. The
"budgets" rounds have three active budgets that apply to every step (global ``alert``, the
workflow's ``pause``, the triggering user's ``block``), each far from its limit, so what is
measured is the reservation and settle work. Rounds alternate (none, budgets, none, budgets, ...)
on the same workers, database and Redis, and the report gives steps/second of each, the ratio
budgets/none of the medians (the target is at least 0.9) and the ratio of each pair of
neighbouring rounds. A last pass, on workers that count their statements (bench/sql_count.py),
gives the SQL per step each way.

    .venv/bin/python bench/budgets.py [--steps 200] [--rounds 3] [--workers 2]

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
from bench.scratch import scratch_environment  # noqa: E402


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
            counts[active] = {"statements": int(totals.get(b"statements", 0)) / args.steps,
                              "budget tables": {shape: count for shape, count in sorted(shapes.items())
                                                if "budget" in shape or "prices" in shape}}
    finally:
        stop_workers(counting)
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    workers: list[subprocess.Popen] = []
    with scratch_environment() as env:
        try:
            run_bench(args, env, workers)
        finally:
            stop_workers(workers)


def run_bench(args, env: dict[str, str], workers: list[subprocess.Popen]) -> None:
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.costs.service import create_budget
    from webapp.extensions import db
    from webapp.queues import redis_connection
    from webapp.users.service import create_user
    from webapp.workflows.service import create_workflow

    app = create_app()
    with app.app_context():
        upgrade()
        redis_connection().flushdb()
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
        for _ in range(args.rounds):
            for active in (False, True):
                set_budgets(active)
                times[active].append(timed_run("bench-spend", args.steps, user))
        none, budgets = (statistics.median(times[flag]) for flag in (False, True))
        print(f"== {args.steps} llm.complete steps per run, {args.workers} worker processes, {args.rounds} rounds each")
        print(f"  no budgets     median {none:6.2f}s  {args.steps / none:7.1f} steps/s  "
              f"(runs: {', '.join(f'{t:.2f}' for t in times[False])})")
        print(f"  three budgets  median {budgets:6.2f}s  {args.steps / budgets:7.1f} steps/s  "
              f"(runs: {', '.join(f'{t:.2f}' for t in times[True])})")
        print(f"  throughput ratio budgets/none {none / budgets:5.2f}x (target >= 0.90); pairs: "
              + ", ".join(f"{n / b:.2f}x" for n, b in zip(times[False], times[True], strict=True)))
        stop_workers(timed)
        for active, counted in count_statements(args, env, workers, user).items():
            print(f"  SQL per step in the workers, {'three budgets' if active else 'no budgets   '}: "
                  f"{counted['statements']:.1f} statements; budgets and prices: "
                  + (", ".join(f"{shape} {count:.1f}" for shape, count in counted["budget tables"].items()) or "none"))
        redis_connection().flushdb()


if __name__ == "__main__":
    main()
