"""The reconciler on a timer, inside every ``flask worker``: no cron needed.

Each worker runs a small thread that, every ``RECONCILE_INTERVAL_SECONDS``, tries to take the
``reconcile-timer`` lease (``webapp.leases``, a PostgreSQL row with a fencing epoch). The one
worker that holds it runs the reconcile pass itself, in this thread, so a cluster reconciles
once per interval however many workers it has. The holder renews the lease at each tick; the
lease lasts ``LEASE_INTERVALS`` intervals, so when the holder dies another worker takes over
within that time, and when it stops cleanly it releases the lease for the next tick of any other
worker.

The pass runs here rather than as a job on the step queue: a job would wait behind every queued
step (eight queued 10 s steps delayed crash detection to 47 s), and ticks would pile up in the
queue and then run back to back. Here the next tick starts one interval after the previous pass
ended, so passes never overlap or pile up, and a pass stops repairing after one interval
(``budget_seconds``), leaving the rest to the next tick, so it ends within the tenure its tick
took. Two passes overlapping anyway (a holder stalled past its lease) are safe: the reconciler
repairs each step under the run's row lock.

The lease lives in the database, not in Redis: a Redis flush (exactly when reconciling matters
most) cannot make two workers think they are the leader.
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

from jobs.steps import reconcile
from webapp import leases
from webapp.extensions import db

log = logging.getLogger(__name__)
LEASE_NAME = "reconcile-timer"
LEASE_INTERVALS = 1.5


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def reconcile_if_holder(interval: float, holder: str) -> tuple[int | None, dict[str, int] | None]:
    """Run one reconcile pass (at most ``interval`` seconds of repairs) if ``holder`` holds, or
    now takes, the lease: ``(epoch, report)``, or ``(None, None)`` when another worker holds it."""
    epoch = leases.acquire(LEASE_NAME, holder, timedelta(seconds=interval * LEASE_INTERVALS))
    if epoch is None:
        return None, None
    return epoch, reconcile(budget_seconds=interval)


class ReconcileTimer(threading.Thread):
    def __init__(self, app: Flask, interval: float) -> None:
        super().__init__(name="flowdeck-reconcile-timer", daemon=True)
        self.app = app
        self.interval = interval
        self.holder = this_process()
        self.stopped = threading.Event()

    def run(self) -> None:
        epoch = None
        with self.app.app_context():
            while not self.stopped.wait(self.interval):
                try:
                    epoch, report = reconcile_if_holder(self.interval, self.holder)
                    if report is not None:
                        log.debug("reconciled under lease epoch %s: %s", epoch, report)
                except (RedisError, SQLAlchemyError) as error:  # Redis or the database down: next tick
                    log.warning("the periodic reconcile failed: %s", error)
                finally:
                    db.session.remove()
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
