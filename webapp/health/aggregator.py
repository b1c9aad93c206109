"""Runs the health checks concurrently, within a deadline, and caches what they found.

Probes arrive from Kubernetes, load balancers and every open console tab; they must neither
hang nor hammer the dependencies. So:

- one long-lived thread pool per aggregator (no thread start-up per probe);
- a result younger than ``cache_seconds`` is served from memory;
- a stale check runs once however many callers want it at the same moment: they all wait on
  the same future (single flight);
- callers wait at most ``deadline`` seconds; a check still running then is reported UNHEALTHY
  "timeout", and it is not started a second time while the first run still hangs, so a dead
  dependency never piles up threads.
"""
from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from webapp.clock import utcnow
from webapp.formatting import iso
from webapp.health.checks import CheckResult, HealthCheck, Status, worst


@dataclass(frozen=True)
class Snapshot:
    status: Status
    checked_at: datetime
    duration_ms: float
    checks: dict[str, CheckResult]
    refreshed: bool

    def to_dict(self, with_details: bool = True) -> dict[str, Any]:
        return {"status": self.status.value, "checked_at": iso(self.checked_at),
                "duration_ms": round(self.duration_ms, 2),
                "checks": {name: result.to_dict(with_details) for name, result in self.checks.items()}}


@dataclass(frozen=True)
class Cached:
    result: CheckResult
    at: float


class SystemHealthAggregator:
    def __init__(self, checks: list[HealthCheck], deadline: float, cache_seconds: float):
        self.checks = {check.name: check for check in checks}
        self.deadline = deadline
        self.cache_seconds = cache_seconds
        self.executor = ThreadPoolExecutor(max_workers=len(checks) + 1, thread_name_prefix="health")
        self.lock = threading.Lock()
        self.running: dict[str, Future] = {}
        self.cache: dict[str, Cached] = {}

    def snapshot(self, names: list[str] | None = None) -> Snapshot:
        """The status of ``names`` (default: every check), fresh enough and within the deadline."""
        started = time.perf_counter()
        names = list(self.checks) if names is None else names
        results: dict[str, CheckResult] = {}
        waiting: dict[str, Future] = {}
        with self.lock:
            for name in names:
                cached = self.cache.get(name)
                if cached is not None and time.monotonic() - cached.at < self.cache_seconds:
                    results[name] = cached.result
                    continue
                future = self.running.get(name)
                if future is None or future.done():
                    future = self.executor.submit(self.run_check, self.checks[name])
                    self.running[name] = future
                waiting[name] = future
        wait(waiting.values(), timeout=self.deadline)
        for name, future in waiting.items():
            results[name] = future.result() if future.done() else CheckResult(
                Status.UNHEALTHY, self.deadline * 1000, {}, f"timeout: no answer within {self.deadline:g} s")
        ordered = {name: results[name] for name in names}
        return Snapshot(worst(result.status for result in ordered.values()), utcnow(),
                        (time.perf_counter() - started) * 1000, ordered, refreshed=bool(waiting))

    def run_check(self, check: HealthCheck) -> CheckResult:
        result = check.run()
        with self.lock:
            self.cache[check.name] = Cached(result, time.monotonic())
        return result

    def shutdown(self) -> None:
        self.executor.shutdown(wait=False, cancel_futures=True)
