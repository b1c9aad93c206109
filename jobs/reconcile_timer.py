"""The reconciler on a timer, inside every ``flask worker``: no cron needed.

Each worker runs a small thread that, every ``RECONCILE_INTERVAL_SECONDS``, tries to take a
Redis key with ``SET NX PX interval``; the one worker that gets it enqueues the
``jobs.steps.reconcile`` job, so a cluster reconciles once per interval however many workers
it has. The key lives in Redis, so after Redis loses everything the next tick reconciles at
once, which is exactly when it is needed. The thread only enqueues; the reconcile itself runs
as a normal job (app context, job id in its log lines, timeout).
"""
from __future__ import annotations

import logging
import threading

from flask import Flask
from redis.exceptions import RedisError

from webapp.queues import enqueue, redis_connection

log = logging.getLogger(__name__)
LOCK_KEY = "flowdeck:reconcile:tick"
RECONCILE_JOB = "jobs.steps.reconcile"


def enqueue_if_due(interval: float, queue: str) -> bool:
    """Enqueue one reconcile job per interval across all workers; True if this call did."""
    if not redis_connection().set(LOCK_KEY, "1", nx=True, px=max(1, int(interval * 1000))):
        return False
    enqueue(RECONCILE_JOB, queue=queue, job_timeout=max(60, int(interval)), result_ttl=int(interval) + 60)
    return True


class ReconcileTimer(threading.Thread):
    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(name="flowdeck-reconcile-timer", daemon=True)
        self.app = app
        self.interval = interval
        self.stopped = threading.Event()

    def run(self) -> None:
        queue = self.app.config["RQ_QUEUES"][0]
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                try:
                    if enqueue_if_due(self.interval, queue):
                        log.debug("enqueued the periodic reconcile")
                except RedisError as error:  # Redis down: try again next tick
                    log.warning("could not schedule the reconciler: %s", error)

    def stop(self) -> None:
        self.stopped.set()
