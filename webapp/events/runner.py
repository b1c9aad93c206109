"""The dispatcher's loop: wake on ``NOTIFY flowdeck_events``, poll as the fallback, back off.

A trigger on ``events`` notifies at every commit that added rows, so an idle dispatcher
publishes within milliseconds without polling the table; the poll (``EVENTS_POLL_SECONDS``)
covers a lost notification or a dropped LISTEN connection. When a destination is down the
loop waits 0.5 s, then twice as long each time, up to 30 s, without touching the rows.
Housekeeping rides on the same loop: pruning old rows and re-queueing webhook deliveries
whose job was lost.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable

import psycopg
from flask import Flask

from webapp.events.dispatcher import BatchResult, Dispatcher
from webapp.extensions import db

log = logging.getLogger(__name__)
CHANNEL = "flowdeck_events"
FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 30.0
HOUSEKEEPING_SECONDS = 30.0
STOP_CHECK_SECONDS = 0.5
# A loop that published (or found nothing to publish) says so for this long; one that backs
# off lets it lapse, and live pages go back to polling.
ALIVE_POLLS = 3
MIN_ALIVE_SECONDS = 10.0


class Listener:
    """A dedicated autocommit connection that LISTENs; reconnects lazily after a failure."""

    def __init__(self, dsn: str) -> None:
        self.dsn = dsn
        self.connection: psycopg.Connection | None = None

    def wait(self, timeout: float, stop: threading.Event) -> bool:
        """Block until a notification, ``timeout`` or ``stop``; True if woken by a notification."""
        deadline = time.monotonic() + timeout
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            if self.wait_once(min(remaining, STOP_CHECK_SECONDS)):
                return True
        return False

    def wait_once(self, timeout: float) -> bool:
        try:
            if self.connection is None or self.connection.closed:
                self.connection = psycopg.connect(self.dsn, autocommit=True, connect_timeout=5)
                self.connection.execute(f"LISTEN {CHANNEL}")
                return True  # rows may have been added while we were not listening
            woken = any(True for _ in self.connection.notifies(timeout=timeout, stop_after=1))
            if woken:  # one pass of the batch covers every commit notified so far
                for _ in self.connection.notifies(timeout=0.001):
                    pass
            return woken
        except psycopg.Error as error:
            log.warning("LISTEN %s failed, polling instead: %s", CHANNEL, error)
            self.close()
            time.sleep(min(timeout, 1.0))
            return False

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()


def listen_dsn(app: Flask) -> str | None:
    url = db.engine.url
    if url.get_backend_name() != "postgresql":
        return None
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def run(app: Flask, stop: threading.Event, dispatcher: Dispatcher | None = None, *, listen: bool = True,
        on_batch: Callable[[BatchResult], None] | None = None, keep_running: Callable[[], bool] | None = None) -> None:
    """Dispatch until ``stop`` is set (or ``keep_running`` says no); the caller holds an app context."""
    from webapp.events.housekeeping import housekeeping

    dispatcher = dispatcher or Dispatcher(app)
    dsn = listen_dsn(app) if listen else None
    listener = Listener(dsn) if dsn else None
    poll = app.config["EVENTS_POLL_SECONDS"]
    backoff = 0.0
    last_housekeeping = 0.0
    log.info("event dispatcher started; destinations: %s", ", ".join(dispatcher.destinations))
    try:
        while not stop.is_set() and (keep_running is None or keep_running()):
            try:
                result = dispatcher.dispatch_once()
            except Exception as error:  # the database itself: log, back off, try again
                log.exception("event dispatch failed")
                result = BatchResult(error=f"{type(error).__name__}: {error}")
            if on_batch is not None:
                on_batch(result)
            if result.error:
                backoff = min(max(backoff * 2, FIRST_BACKOFF_SECONDS), MAX_BACKOFF_SECONDS)
                log.warning("events not published (%s); retrying in %.1fs", result.error, backoff)
                stop.wait(backoff)
                continue
            backoff = 0.0
            dispatcher.redis.mark_alive(max(ALIVE_POLLS * poll, MIN_ALIVE_SECONDS))
            if result.claimed >= dispatcher.batch_size:
                continue
            if time.monotonic() - last_housekeeping > HOUSEKEEPING_SECONDS:
                last_housekeeping = time.monotonic()
                housekeeping(app)
            if listener is not None:
                listener.wait(poll, stop)
            else:
                stop.wait(poll)
    finally:
        if listener is not None:
            listener.close()
        dispatcher.close()
        log.info("event dispatcher stopped")
