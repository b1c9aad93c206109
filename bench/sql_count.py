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

from bench.engine import SQL_KEY as KEY
from bench.engine import SQL_SHAPES_KEY as SHAPES_KEY

_client: Redis | None = None


def client() -> Redis:
    global _client
    if _client is None:
        _client = Redis.from_url(os.environ["REDIS_URL"])
    return _client


@event.listens_for(Engine, "before_cursor_execute")
def _statement(conn, cursor, statement, parameters, context, executemany) -> None:
    with client().pipeline(transaction=False) as pipe:
        pipe.hincrby(KEY, "statements", 1)
        pipe.hincrby(SHAPES_KEY, shape(statement), 1)
        pipe.execute()


def shape(statement: str) -> str:
    """The statement's verb and table, e.g. ``SELECT step_runs``, to see where statements go."""
    words = statement.split()
    verb = words[0].upper() if words else "?"
    table = next((words[i + 1] for i, word in enumerate(words[:-1])
                  if word.upper() in ("FROM", "INTO", "UPDATE") and words[i + 1] != "("), "")
    return f"{verb} {table}".strip()


@event.listens_for(Pool, "checkout")
def _checkout(dbapi_connection, record, proxy) -> None:
    """A checkout can be a round trip too: a connection idle for a while is pinged first
    (webapp/db_ping.py; the ping is no statement)."""
    client().hincrby(KEY, "checkouts", 1)
