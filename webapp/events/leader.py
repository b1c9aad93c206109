"""The dispatcher inside ``flask worker`` (``EVENTS_DISPATCH_IN_WORKER=true``), led by one worker.

Every worker runs this thread; the one holding the ``event-dispatcher`` lease
(``webapp.leases``) dispatches, the others try to take the lease every few seconds. The lease
lasts ``LEASE_POLLS`` poll intervals (at least 10 s) and the leader renews it between batches,
so a leader that dies is replaced within one lease; one that stops cleanly releases it.

The lease is for economy, not safety: claims use ``FOR UPDATE SKIP LOCKED`` and per-subject
locks, so a stalled old leader overlapping a new one publishes nothing twice and nothing out
of order. That is why the dispatcher's writes need no fencing epoch.
"""
from __future__ import annotations

import logging
import threading
import time
from datetime import timedelta

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from jobs.reconcile_timer import this_process
from webapp import leases
from webapp.events import runner

log = logging.getLogger(__name__)
LEASE_NAME = "event-dispatcher"
LEASE_POLLS = 3
MIN_LEASE_SECONDS = 10.0


class DispatcherLeader(threading.Thread):
    def __init__(self, app: Flask) -> None:
        super().__init__(name="flowdeck-event-dispatcher", daemon=True)
        self.app = app
        self.holder = this_process()
        self.ttl = timedelta(seconds=max(MIN_LEASE_SECONDS, LEASE_POLLS * app.config["EVENTS_POLL_SECONDS"]))
        self.stopped = threading.Event()

    def run(self) -> None:
        with self.app.app_context():
            while not self.stopped.is_set():
                epoch = self.try_acquire()
                if epoch is None:
                    self.stopped.wait(self.ttl.total_seconds() / LEASE_POLLS)
                    continue
                log.info("leading the event dispatcher (lease epoch %s)", epoch)
                runner.run(self.app, self.stopped, keep_running=self.keeper(epoch))
                self.release(epoch)

    def try_acquire(self) -> int | None:
        try:
            return leases.acquire(LEASE_NAME, self.holder, self.ttl)
        except SQLAlchemyError as error:  # the database is down: try again later
            log.warning("could not take the event-dispatcher lease: %s", error)
            return None

    def keeper(self, epoch: int):
        """Renew between batches once a third of the lease has passed; False ends the tenure."""
        renewed = [time.monotonic()]

        def keep_running() -> bool:
            if time.monotonic() - renewed[0] < self.ttl.total_seconds() / LEASE_POLLS:
                return True
            try:
                held = leases.renew(LEASE_NAME, self.holder, epoch, self.ttl)
            except SQLAlchemyError:
                held = False
            if not held:
                log.warning("lost the event-dispatcher lease (epoch %s)", epoch)
            renewed[0] = time.monotonic()
            return held

        return keep_running

    def release(self, epoch: int) -> None:
        try:
            leases.release(LEASE_NAME, self.holder, epoch)
        except SQLAlchemyError as error:  # it lapses on its own
            log.warning("could not release the event-dispatcher lease: %s", error)

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)
