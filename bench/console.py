"""Benchmark the console pages at 100,000 runs / ~1,000,000 step rows on PostgreSQL.

Creates two databases ``flowdeck_bench_<random>`` (dropped at the end), one app on each in this
process (Flask-SQLAlchemy keeps an engine per app), seeds one with ``--baseline-runs`` runs and
the other with the same runs plus enough for ``--runs``, with ``flask seed-demo``'s code, logs an
operator in to each with the Flask test client and prints p50/p95 of the Overview, ``/runs``
(first page, a filtered page, a deep page via cursor), a run page, ``/workflows``, a workflow
page, ``/costs``, ``/health``, ``/workers``, ``/events``, ``/decompositions`` and ``/memory``
against the target (p95 < 150 ms), with ids and cursors picked from each database's own data.

The ratio shows how much a page slows down with a hundred times more data (1.0 = not at all),
and a page must stay within ``FLAT_RATIO`` of its baseline. Both sizes are timed in the same
stretch of time: page by page, turns of ``--block`` requests (default 1) go to one app then the
other, the order reversed every round, so load from other processes on this shared machine falls
on both alike (timing the baseline first and the full size minutes later made the ratio follow
the machine's load, not the data). One request per turn is the fairest: a burst of load that
slows two requests in a row then slows one of each size. With both sides on the same 1,000 runs
(``--runs 1000``, 30 requests, load average about 2) the ratios read 0.70x to 1.31x over two
runs with turns of 1, and 0.51x to over 1.5x over three with turns of 5. The two apps share
the Redis db, so the Overview's shared cache is emptied before each turn and refilled by an
untimed request from that turn's own app.
While timing, the context of a bare app is the current one, so every request pushes and pops
its own app's context and Flask-SQLAlchemy session, as a served request does: a request to the
app whose context ``scratch_app`` entered would otherwise reuse that context, and so one session
and its identity map, across requests (one size served from objects already loaded, the other
not). A page whose route does not exist yet is skipped with a note. It exits 1, after naming each
page and why, when a page answers anything but a 200 (or raises) or misses its target or the
ratio.

    .venv/bin/python bench/console.py [--runs 100000] [--baseline-runs 1000] [--requests 60] [--block 1]

BENCH_DATABASE_URL names the server (default: the local test server); BENCH_REDIS_URL the
Redis db the Overview reads queue depth from (default db 10, flushed before and after).
"""
from __future__ import annotations

import argparse
import re
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from redis import Redis
from sqlalchemy.engine import make_url
from werkzeug.exceptions import NotFound

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.scratch import scratch_app  # noqa: E402
from webapp.console.cache import KEY as OVERVIEW_KEY  # noqa: E402
from webapp.extensions import db  # noqa: E402

TARGET_P95_MS = 150.0
TARGETS_P95_MS = {"/metrics scrape": 50.0}  # a scrape must stay far below Prometheus' timeout
FLAT_RATIO = 1.5  # a page's p95 at --runs may be at most this many times its p95 at --baseline-runs
NOT_A_PAGE = {"/metrics scrape"}  # held to its own target only
PASSWORD = "bench password 123"  # noqa: S105 (a throwaway user in a throwaway database)


def percentiles(samples: list[float]) -> tuple[float, float]:
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return cuts[49], cuts[94]


def timed(client, path: str, count: int) -> list[float]:
    """``count`` timed requests; every answer must be a 200."""
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        answered(response)
    return samples


class PageFailed(Exception):
    pass


def answered(response) -> None:
    if response.status_code != 200:
        raise PageFailed(f"answered {response.status_code}")


def pages(app, db) -> list[tuple[str, str]]:
    """The pages to time, with ids and cursors picked from the data: newest run, a deep cursor."""
    from sqlalchemy import func, select

    from webapp.api.pagination import encode_cursor
    from webapp.runs.models import WorkflowRun

    total = db.session.scalar(select(func.count()).select_from(WorkflowRun))
    deep = db.session.execute(select(WorkflowRun.created_at, WorkflowRun.id)
                              .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc())
                              .offset(total // 2).limit(1)).one()
    failed = db.session.scalar(select(WorkflowRun.id).where(WorkflowRun.status == "failed")
                               .order_by(WorkflowRun.id.desc()).limit(1))
    return [
        ("Overview", "/"),
        ("/runs first page", "/runs"),
        ("/runs status=failed&workflow=", "/runs?status=failed&workflow=daily-digest"),
        ("/runs deep page (cursor)", f"/runs?cursor={encode_cursor((deep.created_at.isoformat(), deep.id))}"),
        ("run page (failed run)", f"/runs/{failed}"),
        ("/workflows", "/workflows"),
        ("/workflows/<slug>", "/workflows/daily-digest"),
        ("/costs (last 7 days)", "/costs"),
        ("/costs?range=30d (all records)", "/costs?range=30d"),
        ("/health", "/health"),
        ("/workers", "/workers"),
        ("/events", "/events"),
        ("/decompositions", "/decompositions"),
        ("/memory", "/memory"),
        ("/metrics scrape", "/metrics"),
    ]


def exists(app, path: str) -> bool:
    try:
        app.url_map.bind("localhost").match(path.split("?")[0], method="GET")
    except NotFound:
        return False
    return True


Measured = tuple[float, float] | str  # (p50, p95) in ms, or why the page failed


@dataclass
class Side:
    """One data size: its app, its logged-in client and the pages picked from its data."""

    runs: int
    app: Any
    client: Any
    paths: dict[str, str]
    results: dict[str, Measured] = field(default_factory=dict)


def forget_shared_cache(redis: Redis) -> None:
    """Both apps share the bench's Redis db, and the Overview caches its figures there for
    everyone (webapp/console/cache.py): without this, one size would be timed reading the
    other's figures. After it, the turn's untimed first request caches this side's own."""
    keys = redis.keys(OVERVIEW_KEY.format(window="*"))
    if keys:
        redis.delete(*keys)


def measure_interleaved(sides: list[Side], label: str, count: int, block: int, redis: Redis) -> None:
    """Time one page on every side in turns of ``block`` requests, the order reversed every
    round (small, large, large, small, ...), so the machine's load falls on both sizes alike;
    each side gets up to 10 untimed requests first and one untimed request before each turn."""
    samples: dict[int, list[float]] = {id(side): [] for side in sides}
    for side in sides:
        forget_shared_cache(redis)
        for _ in range(min(10, count)):
            answered(side.client.get(side.paths[label]))
    order = list(sides)
    while len(samples[id(order[0])]) < count:
        for side in order:
            forget_shared_cache(redis)
            answered(side.client.get(side.paths[label]))
            samples[id(side)] += timed(side.client, side.paths[label], min(block, count - len(samples[id(side)])))
        order.reverse()
    for side in sides:
        side.results[label] = percentiles(samples[id(side)])


def measure_all(sides: list[Side], count: int, block: int, redis: Redis) -> None:
    for label in sides[0].paths:
        if not exists(sides[0].app, sides[0].paths[label]):
            print(f"  {label:<32} skipped: {sides[0].paths[label].split('?')[0]} does not exist yet")
            continue
        try:
            measure_interleaved(sides, label, count, block, redis)
        except PageFailed as failed:
            for side in sides:
                side.results[label] = str(failed)
        except Exception as error:  # noqa: BLE001 (the test client raises what the view raised: report it, go on)
            for side in sides:
                with side.app.app_context():
                    db.session.rollback()
                side.results[label] = f"raised {type(error).__name__}: {error}"


def vacuum(database_url: str) -> None:
    """VACUUM ANALYZE after a bulk load, as autovacuum would on a live database: it sets the
    visibility map, without which no count can be an index-only scan. Then CHECKPOINT: the
    load's dirty pages are written now, not by the background writer while the pages are timed."""
    dsn = make_url(database_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE")
        conn.execute("CHECKPOINT")


def log_in(app, client) -> None:
    from webapp.users.service import create_user

    user = create_user(f"bench-{secrets.token_hex(3)}@example.com", PASSWORD, role="operator")
    db.session.commit()
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get("/login").get_data(as_text=True)).group(1)
    response = client.post("/login", data={"email": user.email, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, "login failed"


def seeded_side(runs: int, baseline_runs: int, env: dict[str, str], app) -> Side:
    """Log an operator in, seed ``runs`` runs (the first ``baseline_runs`` of them the same at
    both sizes), VACUUM ANALYZE; called inside the app's context."""
    from webapp.demo.seed import seed_demo

    client = app.test_client()
    log_in(app, client)
    started = time.monotonic()
    seeded = seed_demo(min(runs, baseline_runs), seed=1)
    if runs > baseline_runs:
        seeded = seed_demo(runs - baseline_runs, seed=2)
    db.session.commit()
    elapsed = time.monotonic() - started
    vacuum(env["DATABASE_URL"])
    print(f"seeded {runs} runs ({seeded.steps} step rows, {seeded.costs} cost records in the last load) "
          f"in {elapsed:.1f} s")
    return Side(runs, app, client, dict(pages(app, db)))


def run(runs: int, baseline_runs: int, count: int, block: int) -> list[str]:
    """Seed both sizes, each in its own database and app, time them interleaved, print the table."""
    settings = ({"TESTING": True}, {"RATE_LIMIT_LOGIN": "100000",
                                    "METRICS_ALLOWED_NETWORKS": "127.0.0.1/32"})  # the test client's address
    with scratch_app("redis://127.0.0.1:6379/10", settings[0], **settings[1]) as (small_app, small_env):
        small = seeded_side(baseline_runs, baseline_runs, small_env, small_app)
        with scratch_app("redis://127.0.0.1:6379/10", settings[0], **settings[1]) as (large_app, large_env):
            large = seeded_side(runs, baseline_runs, large_env, large_app)
            print(f"measuring {count} requests per page at {baseline_runs} and {runs} runs, "
                  f"in alternating turns of {block}")
            redis = Redis.from_url(large_env["REDIS_URL"])
            try:
                with Flask(__name__).app_context():  # neither app's, so each request has its own (see above)
                    measure_all([small, large], count, block, redis)
            finally:
                redis.close()
    return report(small.results, large.results, baseline_runs)


def report(baseline: dict[str, Measured], loaded: dict[str, Measured], baseline_runs: int) -> list[str]:
    """One line per page: p50 and p95 now, p95 at the baseline, the ratio; returns the failures."""
    print(f"\n{'page':<32} {'p50':>9} {'p95':>9} {f'p95 @{baseline_runs}':>11} {'ratio':>6}  "
          f"verdict (p95 < {TARGET_P95_MS:.0f} ms, ratio at most {FLAT_RATIO}x)")
    failures = []
    for label in dict.fromkeys([*baseline, *loaded]):
        before, after = baseline.get(label), loaded.get(label)
        errors = [f"{error} at {when}" for when, error in (("the baseline", before), ("full size", after))
                  if isinstance(error, str)]
        if errors:
            failures.append(f"{label}: {'; '.join(errors)}")
            print(f"{label:<32} {'ERROR':>9}  {'; '.join(errors)}")
            continue
        (p50, p95), base_p95 = after, before[1]
        target = TARGETS_P95_MS.get(label, TARGET_P95_MS)
        ratio = p95 / base_p95
        why = [f"p95 {p95:.1f} ms is over its {target:.0f} ms target"] if p95 >= target else []
        if label not in NOT_A_PAGE and ratio > FLAT_RATIO:
            why.append(f"p95 is {ratio:.2f}x its {base_p95:.1f} ms at {baseline_runs} runs (at most {FLAT_RATIO}x)")
        verdict = "ok" if not why else " ".join(word for word, failed in (
            ("SLOW", p95 >= target), ("NOT FLAT", label not in NOT_A_PAGE and ratio > FLAT_RATIO)) if failed)
        failures += [f"{label}: {reason}" for reason in why]
        print(f"{label:<32} {p50:7.1f}ms {p95:7.1f}ms {base_p95:9.1f}ms {ratio:5.2f}x  {verdict}")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=100_000)
    parser.add_argument("--baseline-runs", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--block", type=int, default=1, help="requests per turn of one size")
    args = parser.parse_args()
    failures = run(args.runs, args.baseline_runs, args.requests, args.block)
    if not failures:
        print("all pages within the target")
        return
    print(f"\n{len(failures)} failure(s):")
    for failure in failures:
        print(f"  FAILED {failure}")
    sys.exit(1)


if __name__ == "__main__":
    main()
