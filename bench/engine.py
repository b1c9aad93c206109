"""Benchmark the workflow engine against bare RQ on the same number of workers, in one run.

Scenarios (no-op steps: ``control.sleep`` for 0 seconds, so what is measured is the engine):
- fan-out: one run of 200 independent steps;
- chain: one run of 50 steps, each needing the previous one.
Configurations, each with its own fresh worker processes (2 by default), one after the other:
- bare RQ, forking ``Worker`` (``rq worker``): the baseline every ratio is against;
- bare RQ, ``SimpleWorker`` (no fork at all): the floor RQ itself can reach;
- the engine in its default mode (``flask worker``, persistent work horse);
- the engine in the forking mode (``flask worker --mode fork``), for comparison.
Bare RQ runs the same number of no-op jobs, enqueued together for the fan-out and linked with
RQ's ``depends_on`` for the chain. Prints jobs or steps per second, the ratio to bare forking
RQ (higher is better), and p50/p95 of the chain's hand-off (next start - previous end).

A last, separate pass counts the SQL statements and pool checkouts per step in the engine's
workers (``bench/sql_count.py``, loaded through ``STEP_PLUGINS``), so the timed runs carry no
counting overhead.

    .venv/bin/python bench/engine.py [--fanout 200] [--chain 50] [--workers 2]

Creates and drops its own PostgreSQL database on BENCH_DATABASE_URL's server and flushes the
Redis db of BENCH_REDIS_URL (default db 14) before and after.
"""
from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_environment  # noqa: E402

BIN = Path(sys.executable).parent
TIMEOUT_S = 300
NOOP = "bench.noop.noop"
# The Redis hashes bench/sql_count.py counts into. This process never imports that module: its
# listeners would count this process's own polling too.
SQL_KEY = "bench:sql"
SQL_SHAPES_KEY = "bench:sql:shapes"


@dataclass
class Result:
    seconds: float
    hand_offs_ms: list[float]


@dataclass(frozen=True)
class Config:
    label: str
    engine: bool
    command: tuple[str, ...]


def configs(redis_url: str) -> list[Config]:
    rq = (str(BIN / "rq"), "worker", "--url", redis_url, "--path", str(ROOT), "--logging_level", "WARNING")
    return [
        Config("bare RQ, forking Worker", False, (*rq, "-w", "rq.worker.Worker")),
        Config("bare RQ, SimpleWorker (floor)", False, (*rq, "-w", "rq.worker.SimpleWorker")),
        Config("engine, persistent (default)", True, (str(BIN / "flask"), "worker", "--mode", "persistent")),
        Config("engine, fork", True, (str(BIN / "flask"), "worker", "--mode", "fork")),
    ]



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


def gaps_ms(spans: list[tuple]) -> list[float]:
    """Hand-off times in a chain: each start minus the previous end."""
    return [(b[0] - a[1]).total_seconds() * 1000 for a, b in zip(spans, spans[1:], strict=False)]


def engine_run(slug: str, steps: int) -> Result:
    from sqlalchemy import select

    from webapp.extensions import db
    from webapp.runs import actions
    from webapp.runs.models import WorkflowRun
    from webapp.runs.service import get_run

    started = time.perf_counter()
    run_id = actions.trigger_run(slug, {}, None)[0].id

    def finished():  # one indexed read of one column: the poll must not compete with the workers
        db.session.rollback()
        return db.session.scalar(select(WorkflowRun.status).where(WorkflowRun.id == run_id)) in ("succeeded", "failed")

    wait(finished, f"run {slug}")
    elapsed = time.perf_counter() - started
    run = get_run(run_id)
    assert run.status == "succeeded" and len(run.steps) == steps, run.error
    ordered = sorted(run.steps, key=lambda s: s.started_at)
    return Result(elapsed, gaps_ms([(s.started_at, s.finished_at) for s in ordered]))


def bare_run(count: int, chained: bool) -> Result:
    from webapp.queues import get_queue

    queue = get_queue()
    started = time.perf_counter()
    jobs, previous = [], None
    for _ in range(count):
        previous = queue.enqueue(NOOP, depends_on=previous if chained else None,
                                 job_timeout=60, result_ttl=600, failure_ttl=600)
        jobs.append(previous)
    unfinished = list(jobs)

    def finished():  # each job's status is read until it has finished, then never again
        while unfinished and unfinished[0].get_status(refresh=True) == "finished":
            unfinished.pop(0)
        return not unfinished

    wait(finished, "bare RQ jobs")
    elapsed = time.perf_counter() - started
    for job in jobs:
        job.refresh()
    return Result(elapsed, gaps_ms([(job.started_at, job.ended_at) for job in jobs]))


class WorkerPool:
    """``count`` worker processes of one configuration, each in its own process group."""

    def __init__(self, command: tuple[str, ...], count: int, env: dict[str, str]) -> None:
        self.processes = [subprocess.Popen([*command, "--name", f"bench-{os.getpid()}-{index}-{time.time_ns()}"],
                                           cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                           start_new_session=True) for index in range(count)]

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


def measure(config: Config, args, env: dict[str, str], pools: list[WorkerPool]) -> tuple[Result, Result]:
    pool = WorkerPool(config.command, args.workers, env)
    pools.append(pool)
    try:
        bare_run(args.workers * 5, chained=False)  # warm-up: workers up, imports done
        if config.engine:
            return engine_run("bench-fanout", args.fanout), engine_run("bench-chain", args.chain)
        return bare_run(args.fanout, False), bare_run(args.chain, True)
    finally:
        pool.stop()


def count_statements(args, env: dict[str, str], pools: list[WorkerPool]) -> dict[str, dict]:
    from webapp.queues import redis_connection

    counting_env = {**env, "STEP_PLUGINS": "bench.sql_count"}
    counts = {}
    for slug, steps in (("bench-fanout", args.fanout), ("bench-chain", args.chain)):
        pool = WorkerPool(configs(env["REDIS_URL"])[2].command, args.workers, counting_env)
        pools.append(pool)
        try:
            bare_run(args.workers * 5, chained=False)
            redis_connection().delete(SQL_KEY, SQL_SHAPES_KEY)
            engine_run(slug, steps)
            totals = {k.decode(): int(v) for k, v in redis_connection().hgetall(SQL_KEY).items()}
            shapes = {k.decode(): int(v) / steps for k, v in redis_connection().hgetall(SQL_SHAPES_KEY).items()}
        finally:
            pool.stop()
        counts[slug] = {name: value / steps for name, value in totals.items()}
        counts[slug]["shapes"] = sorted(shapes.items(), key=lambda item: -item[1])
    return counts


def print_table(args, results: dict[str, tuple[Result, Result]]) -> None:
    base_fan, base_chain = results["bare RQ, forking Worker"]
    print(f"== {args.workers} worker processes per configuration; fan-out {args.fanout} steps, "
          f"chain {args.chain} steps; ratio = throughput / bare forking RQ")
    header = ("configuration", "fan-out/s", "ratio", "chain/s", "ratio", "hand-off p50/p95 ms")
    print("{:32} {:>10} {:>6} {:>8} {:>6} {:>20}".format(*header))
    for label, (fan, chain) in results.items():
        hand = f"{percentile(chain.hand_offs_ms, 50):.1f}/{percentile(chain.hand_offs_ms, 95):.1f}"
        print(f"{label:32} {args.fanout / fan.seconds:10.1f} {base_fan.seconds / fan.seconds:5.2f}x "
              f"{args.chain / chain.seconds:8.1f} {base_chain.seconds / chain.seconds:5.2f}x {hand:>20}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fanout", type=int, default=200)
    parser.add_argument("--chain", type=int, default=50)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()

    pools: list[WorkerPool] = []
    with scratch_environment() as env:
        try:
            run_bench(args, env, pools)
        finally:
            for pool in pools:
                pool.stop()


def run_bench(args, env: dict[str, str], pools: list[WorkerPool]) -> None:
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
        results = {config.label: measure(config, args, env, pools) for config in configs(env["REDIS_URL"])}
        print_table(args, results)
        counts = count_statements(args, env, pools)
        for slug, label in (("bench-fanout", "fan-out"), ("bench-chain", "chain")):
            per_step = counts[slug]
            print(f"SQL per step in the engine's workers, {label}: {per_step.get('statements', 0):.1f} statements, "
                  f"{per_step.get('checkouts', 0):.1f} pool checkouts (counted by bench/sql_count.py)")
            print("    " + ", ".join(f"{name} {count:.1f}" for name, count in per_step["shapes"]))
        redis_connection().flushdb()


if __name__ == "__main__":
    main()
