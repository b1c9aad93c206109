"""Counts the SQL statements and pool checkouts of bench/engine.py's workers.

bench/engine.py loads it into the engine workers of its counting pass through ``STEP_PLUGINS``
(a module imported at app start); it registers no step kind. Every statement a worker or its
horse sends adds one to a Redis hash, so the figure is counted, not estimated. The counting
pass is separate from the timed runs, whose workers do not load this module.
"""
from __future__ import annotations

import os

from redis import Redis
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import Pool

KEY = "bench:sql"
_client: Redis | None = None


def client() -> Redis:
    global _client
    if _client is None:
        _client = Redis.from_url(os.environ["REDIS_URL"])
    return _client


@event.listens_for(Engine, "before_cursor_execute")
def _statement(conn, cursor, statement, parameters, context, executemany) -> None:
    client().hincrby(KEY, "statements", 1)


@event.listens_for(Pool, "checkout")
def _checkout(dbapi_connection, record, proxy) -> None:
    """A checkout is a round trip too when ``pool_pre_ping`` is on (its ping is no statement)."""
    client().hincrby(KEY, "checkouts", 1)
