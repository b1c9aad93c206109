"""RQ check: live workers (fresh heartbeat), queue depths and failed jobs."""
from __future__ import annotations

from typing import Any

from webapp.clock import utcnow
from webapp.health.checks import HealthCheck, Status
from webapp.queues import redis_client
from webapp.workers.service import queue_depths, worker_rows


class WorkersHealthCheck(HealthCheck):
    """Jobs waiting on a queue that no live worker serves is UNHEALTHY: they would wait forever.

    A backlog over ``backlog_threshold`` is DEGRADED (workers cannot keep up), and so is no
    live worker with nothing queued: nothing is stuck yet, but the next run would be.
    """

    name = "workers"

    def __init__(self, url: str, queues: list[str], timeout: float, slow_ms: float,
                 backlog_threshold: int, heartbeat_seconds: float):
        super().__init__(timeout, slow_ms)
        self.client = redis_client(url, timeout)
        self.queues = queues
        self.backlog_threshold = backlog_threshold
        self.heartbeat_seconds = heartbeat_seconds

    def probe(self) -> tuple[Status, dict[str, Any]]:
        workers = worker_rows(self.client, utcnow(), self.heartbeat_seconds)
        depths = queue_depths(self.client, self.queues)
        served = {name for worker in workers if worker["live"] for name in worker["queues"]}
        live = sum(1 for worker in workers if worker["live"])
        queued = sum(waiting for waiting, _ in depths.values())
        stranded = [name for name, (waiting, _) in depths.items() if waiting and name not in served]
        details = {"live_workers": live, "stale_workers": len(workers) - live, "queued": queued,
                   "failed": sum(failed for _, failed in depths.values()),
                   "queues": {name: waiting for name, (waiting, _) in depths.items()}}
        if stranded:
            error = f"jobs wait on {', '.join(stranded)} and no live worker serves it"
            return Status.UNHEALTHY, {**details, "error": error}
        if live == 0:
            return Status.DEGRADED, {**details, "error": "no live worker"}
        if queued > self.backlog_threshold:
            return Status.DEGRADED, {**details, "error": f"backlog of {queued} jobs over {self.backlog_threshold}"}
        return Status.HEALTHY, details
