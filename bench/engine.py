"""Benchmark the workflow engine against bare RQ on the same two workers, in the same run.

Scenarios (no-op steps: ``control.sleep`` for 0 seconds, so what is measured is the engine):
- fan-out: one run of 200 independent steps;
- chain: one run of 50 steps, each needing the previous one.
Baselines: the same number of bare RQ no-op jobs on the same workers, enqueued together for the
fan-out, and linked with RQ's ``depends_on`` for the chain. Prints steps/second, the per-step
engine overhead ((engine - bare) / steps, wall clock), the ratio engine/bare, and p50/p95 of
the hand-off in the chains (next start - previous end).

    .venv/bin/python bench/engine.py [--fanout 200] [--chain 50] [--workers 2]

Creates and drops its own PostgreSQL database on BENCH_DATABASE_URL's server and flushes the
Redis db of BENCH_REDIS_URL (default db 14) before and after.
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
TIMEOUT_S = 300


def noop() -> None:
    """The bare RQ job of the baseline."""


def admin_dsn(url) -> str:
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def percentile(values: list[float], pct: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1] if len(values) > 1 else values[0]


def wait(check, what: str):
    deadline = time.monotonic() + TIMEOUT_S
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.005)
    raise SystemExit(f"timed out waiting for {what}")


def engine_run(slug: str, steps: int) -> tuple[float, list[float]]:
    from webapp.extensions import db
    from webapp.runs import actions
    from webapp.runs.service import get_run

    started = time.perf_counter()
    run_id = actions.trigger_run(slug, {}, None)[0].id

    def finished():
        db.session.rollback()
        return get_run(run_id).status in ("succeeded", "failed")

    wait(finished, f"run {slug}")
    elapsed = time.perf_counter() - started
    run = get_run(run_id)
    assert run.status == "succeeded" and len(run.steps) == steps, run.error
    ordered = sorted(run.steps, key=lambda s: s.started_at)
    return elapsed, gaps_ms([(s.started_at, s.finished_at) for s in ordered])


def gaps_ms(spans: list[tuple]) -> list[float]:
    """Hand-off times in a chain: each start minus the previous end."""
    return [(b[0] - a[1]).total_seconds() * 1000 for a, b in zip(spans, spans[1:], strict=False)]


def bare_run(count: int, chained: bool) -> tuple[float, list[float]]:
    from webapp.queues import get_queue

    queue = get_queue()
    started = time.perf_counter()
    jobs, previous = [], None
    for _ in range(count):
        previous = queue.enqueue("bench.engine.noop", depends_on=previous if chained else None,
                                 job_timeout=60, result_ttl=600, failure_ttl=600)
        jobs.append(previous)
    wait(lambda: all(job.get_status(refresh=True) == "finished" for job in jobs), "bare RQ jobs")
    elapsed = time.perf_counter() - started
    for job in jobs:
        job.refresh()
    return elapsed, gaps_ms([(job.started_at, job.ended_at) for job in jobs])


def report(name: str, steps: int, engine: tuple[float, list[float]], bare: tuple[float, list[float]], chained: bool):
    (engine_s, engine_hand), (bare_s, bare_hand) = engine, bare
    print(f"{name}: {steps} steps")
    print(f"  engine   {engine_s:7.2f}s  {steps / engine_s:8.1f} steps/s")
    print(f"  bare RQ  {bare_s:7.2f}s  {steps / bare_s:8.1f} jobs/s")
    print(f"  engine overhead per step {(engine_s - bare_s) / steps * 1000:6.1f} ms   "
          f"ratio engine/bare {engine_s / bare_s:5.2f}x")
    if chained:
        print(f"  hand-off p50/p95: engine {percentile(engine_hand, 50):.1f}/{percentile(engine_hand, 95):.1f} ms, "
              f"bare RQ {percentile(bare_hand, 50):.1f}/{percentile(bare_hand, 95):.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fanout", type=int, default=200)
    parser.add_argument("--chain", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    server = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"))
    name = f"flowdeck_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn(server), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    database_url = server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    env = {**os.environ, "FLOWDECK_ENV": "test", "FLOWDECK_INSTANCE_DIR": tempfile.mkdtemp(prefix="flowdeck-bench-"),
           "DATABASE_URL": database_url,
           "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14"),
           "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET": secrets.token_urlsafe(48),
           "LOG_LEVEL": "warning", "FLASK_APP": "wsgi", "AMQP_URL": ""}
    os.environ.update(env)
    workers: list[subprocess.Popen] = []
    try:
        run_bench(args, env, workers)
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(timeout=30)
        with psycopg.connect(admin_dsn(server), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_bench(args, env: dict[str, str], workers: list[subprocess.Popen]) -> None:
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.extensions import db
    from webapp.queues import redis_connection
    from webapp.workflows.service import create_workflow

    app = create_app()
    with app.app_context():
        upgrade()
        redis_connection().flushdb()
        noop_step = {"uses": "control.sleep", "with": {"seconds": 0}}
        create_workflow({"name": "bench-fanout", "steps": [{"id": f"s{i}", **noop_step} for i in range(args.fanout)]})
        create_workflow({"name": "bench-chain", "steps": [
            {"id": f"s{i}", **noop_step, **({"needs": [f"s{i - 1}"]} if i else {})} for i in range(args.chain)]})
        db.session.commit()
        for index in range(args.workers):
            workers.append(subprocess.Popen([str(BIN / "flask"), "worker", "--name", f"bench-{os.getpid()}-{index}"],
                                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        bare_run(args.workers * 5, chained=False)  # warm-up: workers up, imports done
        print(f"== engine vs bare RQ, {args.workers} worker processes, same Redis and run")
        report("fan-out", args.fanout, engine_run("bench-fanout", args.fanout), bare_run(args.fanout, False), False)
        report("chain", args.chain, engine_run("bench-chain", args.chain), bare_run(args.chain, True), True)
        redis_connection().flushdb()


if __name__ == "__main__":
    main()
