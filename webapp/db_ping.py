"""Pessimistic disconnect handling that costs a round trip only when it can matter.

SQLAlchemy's ``pool_pre_ping`` sends ``SELECT 1`` at EVERY checkout. A step attempt checks out
a connection twice (the claim, the record) within milliseconds of its last use, so that ping
was one round trip in every 7 to 9 of a transaction, for a connection that was just working.

Here a connection is pinged only when it has sat in the pool for more than
``PING_AFTER_IDLE_SECONDS`` (or its idle time is unknown): a PostgreSQL restart takes seconds,
so a connection that died with the server has been idle longer than that when it is checked
out again, and is replaced before anyone uses it, as before. One that dies within the window
(the server killed and back in under a second) fails its first statement instead: SQLAlchemy
then invalidates the pool, the record of a step rides that out (``execution.record_outcome``
retries disconnects), and a claim that fails leaves its step queued for the reconciler.
"""
from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

PING_AFTER_IDLE_SECONDS = 1.0
_IDLE_SINCE = "flowdeck_idle_since"


def ping_when_idle(engine: Engine) -> None:
    """Ping ``engine``'s connections at checkout when they sat idle (use instead of pool_pre_ping)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection, record) -> None:
        if dbapi_connection is not None:  # None: invalidated on the way back
            record.info[_IDLE_SINCE] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, proxy) -> None:
        idle_since = record.info.pop(_IDLE_SINCE, None)
        if idle_since is not None and time.monotonic() - idle_since <= PING_AFTER_IDLE_SECONDS:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(f"connection dead at checkout: {error}") from error  # the pool reconnects
