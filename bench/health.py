"""Benchmark the health probes against real PostgreSQL, Redis and RabbitMQ.

Prints p50/p95/p99 of /api/v3/health/live, of /api/v3/health/system with the cache disabled
and enabled, and of each check run alone; then the ratio of the uncached system probe to the
slowest single check, and to all checks run one after another in the same process (the
baseline). Against local services each check is mostly Python CPU time under one GIL, so
concurrency cannot bring /system down to the slowest check alone; against remote dependencies,
where checks mostly wait on the network, it does.

    .venv/bin/python bench/health.py [--requests 3000]

Services come from BENCH_DATABASE_URL, BENCH_REDIS_URL and BENCH_AMQP_URL (defaults: the local
test servers; only the probe key and the bounded history list are written to Redis).
"""
from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from webapp import create_app  # noqa: E402
from webapp.health import service  # noqa: E402
from webapp.health.aggregator import SystemHealthAggregator  # noqa: E402
from webapp.health.checks import HealthCheck  # noqa: E402

LATENCY_S = 0.005

ENV = {
    "FLOWDECK_ENV": "test",
    "FLOWDECK_INSTANCE_DIR": tempfile.mkdtemp(prefix="flowdeck-bench-"),
    "DATABASE_URL": os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"),
    "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12"),
    "AMQP_URL": os.environ.get("BENCH_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/"),
    "SECRET_KEY": secrets.token_urlsafe(48),
    "JWT_SECRET": secrets.token_urlsafe(48),
    "LOG_LEVEL": "warning",
}


def percentiles(samples_ms: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(samples_ms, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def timed(action: Callable[[], object], count: int) -> list[float]:
    for _ in range(min(50, count)):
        action()
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def get(client, path: str) -> Callable[[], None]:
    def call() -> None:
        response = client.get(path)
        assert response.status_code in (200, 503), response.status_code

    return call


def report(label: str, samples: list[float]) -> tuple[float, float, float]:
    p50, p95, p99 = percentiles(samples)
    print(f"{label:<34} n={len(samples):>5}  p50={p50:7.2f} ms  p95={p95:7.2f} ms  p99={p99:7.2f} ms")
    return p50, p95, p99


class RemoteLike(HealthCheck):
    """A real check behind ``LATENCY_S`` of simulated network wait (a dependency in another zone)."""

    def __init__(self, inner: HealthCheck):
        super().__init__(inner.timeout, inner.slow_ms)
        self.inner, self.name = inner, inner.name

    def probe(self):
        time.sleep(LATENCY_S)
        return self.inner.probe()


def remote_like(agg: SystemHealthAggregator, count: int) -> None:
    """Where checks wait on the network, running them concurrently pays: compare with one after another."""
    checks = [RemoteLike(check) for check in agg.checks.values()]
    remote = SystemHealthAggregator(checks, deadline=2.0, cache_seconds=0.0)
    print(f"-- each check behind {LATENCY_S * 1000:.0f} ms of simulated network latency")
    single = max((report(f"check {check.name} alone", timed(check.run, count)) for check in checks),
                 key=lambda row: row[0])
    in_turn = report("all checks one after another", timed(lambda: [c.run() for c in checks], count))
    together = report("aggregator snapshot (no cache)", timed(remote.snapshot, count))
    print(f"ratio snapshot to slowest check: p50 {together[0] / single[0]:.2f}x; "
          f"to one after another: p50 {together[0] / in_turn[0]:.2f}x")
    remote.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    count = parser.parse_args().requests
    os.environ.update(ENV)
    app = create_app({"HEALTH_CACHE_SECONDS": 0.0})
    client = app.test_client()
    with app.app_context():
        agg = service.aggregator(app)
        print("checks:", {name: result.status.value for name, result in agg.snapshot().checks.items()})
        singles = {name: report(f"check {name} alone", timed(check.run, count // 3))
                   for name, check in agg.checks.items()}
        in_turn = report("all checks one after another",
                         timed(lambda: [c.run() for c in agg.checks.values()], count // 3))
    report("/api/v3/health/live", timed(get(client, "/api/v3/health/live"), count))
    uncached = report("/api/v3/health/system (no cache)", timed(get(client, "/api/v3/health/system"), count))
    app.config["HEALTH_CACHE_SECONDS"] = 2.0
    app.extensions.pop(service.EXTENSION).shutdown()
    report("/api/v3/health/system (cache 2 s)", timed(get(client, "/api/v3/health/system"), count))
    slowest = max(singles, key=lambda name: singles[name][0])
    total_p50 = sum(values[0] for values in singles.values())
    print(f"slowest single check: {slowest} (p50 {singles[slowest][0]:.2f} ms, p95 {singles[slowest][1]:.2f} ms); "
          f"sum of all checks' p50: {total_p50:.2f} ms")
    print(f"ratio uncached /system to slowest check: p50 {uncached[0] / singles[slowest][0]:.2f}x, "
          f"p95 {uncached[1] / singles[slowest][1]:.2f}x")
    print(f"ratio uncached /system to all checks one after another: p50 {uncached[0] / in_turn[0]:.2f}x, "
          f"p95 {uncached[1] / in_turn[1]:.2f}x")
    print(f"uncached /system p95 {uncached[1]:.2f} ms against the 100 ms target: "
          f"{'met' if uncached[1] < 100 else 'MISSED'}")
    with app.app_context():
        remote_like(service.aggregator(app), count // 10)
    app.extensions.pop(service.EXTENSION).shutdown()


if __name__ == "__main__":
    main()
