"""Benchmark the memory tiers against plain baselines measured in the same run.

1. Hit latency (p50/p95, one call at a time) of a plain dict lookup, an L1 hit, a plain Redis
   GET, an L2 hit, a plain primary-key SELECT, an L3 hit and an L4 hit (100 KB value). An "Ln
   hit" is the whole ``store.get`` call when the tiers above miss, fill-up included.
2. A Zipf workload: s = 1.1 over 10,000 keys (100-byte values, all in L3, L2 cold), 100,000
   reads from 4 processes (25,000 each), L1 sized to 10 % of the keys. Prints each tier's hit
   rate and the throughput against the same 4 processes doing plain Redis GETs of the same keys.
3. A memo workload (``--memo-runs``, default 200): runs of a one-step ``llm.complete``
   workflow on real workers whose prompt topic is drawn with Zipf s = 1.1 over 50 topics
   (seeded), once with ``cache: {ttl}`` and once without, same sequence. Prints the hit rate
   and the spend with and without the cache, from the cost records.

    .venv/bin/python bench/memory.py [--reads 100000] [--memo-runs 200]

Creates and drops its own PostgreSQL database on BENCH_DATABASE_URL's server and flushes the
Redis db of BENCH_REDIS_URL (default db 14) before and after.
"""
from __future__ import annotations

import argparse
import bisect
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_app  # noqa: E402

BIN = Path(sys.executable).parent
LATENCY_SAMPLES = 5000
ZIPF_KEYS = 10_000
ZIPF_S = 1.1
PROCESSES = 4
MEMO_TOPICS = 50



def pct(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1]


def timed(call, samples: int = LATENCY_SAMPLES, before=None) -> list[float]:
    """Microseconds per call; ``before`` runs untimed ahead of each call (to empty a tier)."""
    out = []
    for _ in range(samples):
        if before is not None:
            before()
        started = time.perf_counter_ns()
        call()
        out.append((time.perf_counter_ns() - started) / 1000)
    return out


def line(name: str, micros: list[float], baseline: list[float] | None = None, target: str = "") -> None:
    ratio = f"  {pct(micros, 50) / pct(baseline, 50):6.1f}x its baseline" if baseline else ""
    print(f"  {name:<22} p50 {pct(micros, 50):9.2f} µs   p95 {pct(micros, 95):9.2f} µs{ratio}{target}")


def zipf_sampler(n: int, s: float, seed: int):
    weights = [1 / (rank ** s) for rank in range(1, n + 1)]
    total, cumulative, running = sum(weights), [], 0.0
    for weight in weights:
        running += weight
        cumulative.append(running / total)
    rng = random.Random(seed)
    return lambda: min(bisect.bisect_left(cumulative, rng.random()), n - 1)


def latency(app) -> None:
    from webapp.extensions import db
    from webapp.memory import keys
    from webapp.memory.store import memory

    store = memory()
    store.put("global", "small", {"v": "x" * 80})
    store.put("global", "large", "y" * 100_000)
    db.session.commit()
    store.get("global", "warm")
    while not store.l1_live:
        time.sleep(0.01)
    row_id = db.session.execute(db.text("SELECT id FROM memory_entries WHERE key = 'small'")).scalar()
    db.session.rollback()
    plain = {"small": {"v": "x" * 80}}
    store.redis.set("plain", b'{"v":"' + b"x" * 80 + b'"}')
    select = db.text("SELECT value FROM memory_entries WHERE id = :id")

    def pk_select():
        with db.engine.connect() as connection:
            connection.execute(select, {"id": row_id}).first()

    def drop_l1():
        store.l1.invalidate(("global", "small"))
        store.l1.invalidate(("global", "large"))

    def drop_l1_l2():
        drop_l1()
        store.redis.delete(keys.value_key("global", "small"), keys.value_key("global", "large"))

    store.get("global", "small")
    dict_us = timed(lambda: plain["small"])
    l1_us = timed(lambda: store.get("global", "small"))
    redis_us = timed(lambda: store.redis.get("plain"))
    store.get("global", "small")
    l2_us = timed(lambda: store.get("global", "small"), before=drop_l1)
    select_us = timed(pk_select)
    l3_us = timed(lambda: store.get("global", "small"), before=drop_l1_l2)
    l4_us = timed(lambda: store.get("global", "large"), samples=500, before=drop_l1_l2)
    print(f"== hit latency, one call at a time, {LATENCY_SAMPLES} calls each (L4: 500), 100-byte value (L4: 100 KB)")
    line("dict lookup", dict_us)
    line("L1 hit", l1_us, dict_us, "   (target p50 <= 5 µs)")
    line("Redis GET", redis_us)
    line("L2 hit", l2_us, redis_us, "   (target p50 <= 500 µs)")
    line("primary-key SELECT", select_us)
    line("L3 hit", l3_us, select_us, "   (target p50 <= 2,000 µs)")
    line("L4 hit (100 KB)", l4_us, select_us)


def zipf_reader(args: tuple[int, int, bool]) -> dict:
    """One process of the Zipf workload (spawned: its own app, L1 and listener)."""
    seed, reads, plain = args
    from webapp import create_app
    from webapp.memory.store import memory

    app = create_app()
    with app.app_context():
        store = memory()
        store.get("global", "warm")
        while not store.l1_live:
            time.sleep(0.01)
        store.stats.forget()
        sample = zipf_sampler(ZIPF_KEYS, ZIPF_S, seed)
        names = [f"k{sample()}" for _ in range(reads)]
        started = time.perf_counter()
        if plain:
            for name in names:
                store.redis.get(name)
        else:
            for name in names:
                store.get("global", name)
        elapsed = time.perf_counter() - started
        store.flush_stats()
        return {"elapsed": elapsed}


def zipf(app, reads: int) -> None:
    from webapp.extensions import db
    from webapp.memory import stats
    from webapp.memory.store import memory

    value = "z" * 90
    store = memory()
    with db.engine.begin() as connection:
        connection.execute(db.text(
            "INSERT INTO memory_entries (namespace, key, value, size, created_at, updated_at) "
            "SELECT 'global', 'k' || i, to_json(CAST(:v AS text)), 92, now(), now() FROM generate_series(0, :n) i"),
            {"v": value, "n": ZIPF_KEYS - 1})
    pipe = store.redis.pipeline(transaction=False)
    for index in range(ZIPF_KEYS):
        pipe.set(f"k{index}", f'"{value}"')
    pipe.execute()
    per_process = reads // PROCESSES
    context = multiprocessing.get_context("spawn")
    print(f"== Zipf s={ZIPF_S} over {ZIPF_KEYS:,} keys, {per_process * PROCESSES:,} reads from {PROCESSES} processes, "
          f"L1 = {store.l1.max_entries:,} entries (10 % of the keys); baseline: the same reads as plain Redis GETs")
    with context.Pool(PROCESSES) as pool:
        baseline = pool.map(zipf_reader, [(seed, per_process, True) for seed in range(PROCESSES)])
        for label in ("cold (L1 and L2 empty)",
                      "L2 warm (a second pass over the same keys; each process starts with an empty L1)"):
            stats.reset(store.redis)  # from here on the shared counters hold this pass's reads only
            tiered = pool.map(zipf_reader, [(seed, per_process, False) for seed in range(PROCESSES)])
            zipf_report(label, stats.read(store.redis), tiered, baseline)


def zipf_report(label: str, figures: dict, tiered: list[dict], baseline: list[dict]) -> None:
    reads = figures["overall"]["reads"]
    print(f"  {label}:")
    for tier in ("l1", "l2", "l3"):
        hits, misses = figures[tier]["hits"], figures[tier]["misses"]
        print(f"    {tier}: {hits:7,} hits {misses:7,} misses  hit rate {hits / max(hits + misses, 1):6.1%}")
    served_l1 = figures["l1"]["hits"] / reads
    served_l2 = (figures["l1"]["hits"] + figures["l2"]["hits"]) / reads
    print(f"    served from L1 {served_l1:6.1%}, from L1 or L2 {served_l2:6.1%}, "
          f"from any tier {figures['overall']['read_hits'] / reads:6.1%}")
    wall_tiered = max(answer["elapsed"] for answer in tiered)
    wall_plain = max(answer["elapsed"] for answer in baseline)
    print(f"    throughput: tiered {reads / wall_tiered:9,.0f} reads/s, plain Redis GET {reads / wall_plain:9,.0f} "
          f"reads/s: {wall_plain / wall_tiered:5.2f}x the baseline")


def memo(app, env: dict[str, str], runs: int, workers: list[subprocess.Popen]) -> None:
    from webapp.extensions import db
    from webapp.runs import actions
    from webapp.workflows.service import create_workflow

    step = {"id": "summarize", "uses": "llm.complete",
            "with": {"model": "local-small", "max_tokens": 64,
                     "prompt": "Summarize today's news about {{ params.topic }} in three short lines."}}
    params = {"topic": {"type": "string", "required": True}}
    create_workflow({"name": "memo-cached", "params": params, "max_concurrent_runs": 4,
                     "steps": [{**step, "cache": {"ttl": 3600}}]})
    create_workflow({"name": "memo-plain", "params": params, "max_concurrent_runs": 4, "steps": [step]})
    db.session.commit()
    for index in range(2):
        workers.append(subprocess.Popen([str(BIN / "flask"), "worker", "--name", f"bench-memo-{os.getpid()}-{index}"],
                                        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
    sample = zipf_sampler(MEMO_TOPICS, ZIPF_S, 7)
    topics = [f"topic-{sample()}" for _ in range(runs)]
    figures = {}
    for slug in ("memo-plain", "memo-cached"):
        ids = [actions.trigger_run(slug, {"topic": topic}, None)[0].id for topic in topics]
        deadline = time.monotonic() + 600
        query = db.text("SELECT count(*) FROM workflow_runs WHERE id = ANY(:ids) AND status IN ('succeeded', 'failed')")
        while db.session.execute(query, {"ids": ids}).scalar() < len(ids):
            db.session.rollback()
            if time.monotonic() > deadline:
                raise SystemExit(f"{slug}: runs did not finish in 600 s")
            time.sleep(0.2)
        figures[slug] = db.session.execute(db.text(
            "SELECT count(*) FILTER (WHERE s.cache_hit), count(*) FILTER (WHERE r.status = 'succeeded'), "
            "(SELECT coalesce(sum(amount), 0) FROM cost_records WHERE run_id = ANY(:ids)), "
            "(SELECT coalesce(sum(saved), 0) FROM cost_records WHERE run_id = ANY(:ids)) "
            "FROM step_runs s JOIN workflow_runs r ON r.id = s.run_id WHERE r.id = ANY(:ids)"), {"ids": ids}).one()
        db.session.rollback()
    distinct = len(set(topics))
    hits, succeeded, spend, saved = figures["memo-cached"]
    _, plain_succeeded, plain_spend, _ = figures["memo-plain"]
    print(f"== memo: {runs} runs of one llm.complete step (local-small, 64 tokens out), topic ~ Zipf s={ZIPF_S} over "
          f"{MEMO_TOPICS} topics (seed 7): {distinct} distinct prompts, 2 workers")
    print(f"  succeeded: cached {succeeded}/{runs}, uncached {plain_succeeded}/{runs}")
    print(f"  cache hits {hits}/{runs} = {hits / runs:.1%} (the best possible is {(runs - distinct) / runs:.1%})")
    print(f"  spend without cache ${plain_spend:.6f}   with cache ${spend:.6f}   recorded saved ${saved:.6f}")
    print(f"  measured saving {1 - spend / plain_spend:.1%}   (spend + saved = ${spend + saved:.6f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reads", type=int, default=100_000)
    parser.add_argument("--memo-runs", type=int, default=200)
    args = parser.parse_args()

    workers: list[subprocess.Popen] = []
    with scratch_app(MEMORY_L1_MAX_ENTRIES=str(ZIPF_KEYS // 10)) as (app, env):
        from webapp.memory.store import memory

        try:
            latency(app)
            if args.reads:
                zipf(app, args.reads)
            if args.memo_runs:
                memo(app, env, args.memo_runs, workers)
            memory().close()
        finally:
            for worker in workers:
                worker.terminate()
            for worker in workers:
                worker.wait(timeout=30)


if __name__ == "__main__":
    main()
