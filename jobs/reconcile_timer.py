"""The reconciler on a timer, inside every ``flask worker``: no cron needed.

Each worker runs a small thread that, every ``RECONCILE_INTERVAL_SECONDS``, tries to take the
``reconcile-timer`` lease (``webapp.leases``, a PostgreSQL row with a fencing epoch). The one
worker that holds it enqueues the ``jobs.steps.reconcile`` job, so a cluster reconciles once per
interval however many workers it has. The holder renews the lease at each tick; the lease lasts
``LEASE_INTERVALS`` intervals, so when the holder dies another worker takes over within that
time, and when it stops cleanly it releases the lease for the next tick of any other worker.

The lease lives in the database, not in Redis: a Redis flush (exactly when reconciling matters
most) cannot make two workers think they are the leader. The thread only enqueues; the
reconcile itself runs as a normal job (app context, job id in its log lines, timeout) and is
safe even if two ever overlapped, since it repairs each step under the run's row lock.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from datetime import timedelta

from flask import Flask
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError

from webapp import leases
from webapp.queues import enqueue

log = logging.getLogger(__name__)
LEASE_NAME = "reconcile-timer"
LEASE_INTERVALS = 1.5
RECONCILE_JOB = "jobs.steps.reconcile"


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def enqueue_if_due(interval: float, queue: str, holder: str) -> int | None:
    """Enqueue the reconcile job if ``holder`` holds (or now takes) the lease; the lease's epoch
    if it did, None if another worker holds it."""
    epoch = leases.acquire(LEASE_NAME, holder, timedelta(seconds=interval * LEASE_INTERVALS))
    if epoch is not None:
        enqueue(RECONCILE_JOB, queue=queue, job_timeout=max(60, int(interval)), result_ttl=int(interval) + 60)
    return epoch


class ReconcileTimer(threading.Thread):
    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(name="flowdeck-reconcile-timer", daemon=True)
        self.app = app
        self.interval = interval
        self.holder = this_process()
        self.stopped = threading.Event()

    def run(self) -> None:
        queue = self.app.config["RQ_QUEUES"][0]
        epoch = None
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                try:
                    epoch = enqueue_if_due(self.interval, queue, self.holder)
                    if epoch is not None:
                        log.debug("enqueued the periodic reconcile (lease epoch %s)", epoch)
                except (RedisError, SQLAlchemyError) as error:  # Redis or the database down: next tick
                    log.warning("could not schedule the reconciler: %s", error)
            if epoch is not None:
                self._release(epoch)

    def _release(self, epoch: int) -> None:
        try:
            leases.release(LEASE_NAME, self.holder, epoch)
        except SQLAlchemyError as error:  # it lapses on its own
            log.warning("could not release the reconcile lease: %s", error)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
