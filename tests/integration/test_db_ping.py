"""Connections are pinged at checkout only after sitting idle (webapp/db_ping.py), against the
real PostgreSQL: a dead idle connection is replaced before use, a recently used one costs no
ping, and one that died within the window fails once and is then replaced."""
from __future__ import annotations

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from webapp import db_ping


def backend_pid(db) -> int:
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar_one()
    db.session.commit()  # back to the pool
    return pid


def terminate(db, pid: int) -> None:
    """What a PostgreSQL restart does to a pooled connection, from outside the pool (which
    would hand out that very connection)."""
    url = db.engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(url, autocommit=True) as other:
        assert other.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]


@pytest.fixture
def one_connection(db):
    """An empty pool, so the next checkout gets the connection the test just returned."""
    db.session.remove()
    db.engine.dispose()
    return db


@pytest.fixture
def pings(one_connection, monkeypatch) -> list[int]:
    """Every ping the pool sends, as a list that grows."""
    sent: list[int] = []
    dialect = one_connection.engine.dialect
    ping = dialect.do_ping
    monkeypatch.setattr(dialect, "do_ping", lambda connection: sent.append(1) or ping(connection))
    return sent


def test_a_connection_that_died_while_idle_is_replaced_before_its_first_statement(one_connection, pings,
                                                                                   monkeypatch):
    db = one_connection
    monkeypatch.setattr(db_ping, "PING_AFTER_IDLE_SECONDS", 0.0)  # any idle time is long enough
    dead = backend_pid(db)
    terminate(db, dead)
    before = len(pings)
    assert backend_pid(db) != dead  # the statement ran, on a new connection
    assert len(pings) > before


def test_a_connection_used_within_the_window_is_not_pinged(one_connection, pings, monkeypatch):
    db = one_connection
    monkeypatch.setattr(db_ping, "PING_AFTER_IDLE_SECONDS", 60.0)
    first = backend_pid(db)
    before = len(pings)
    assert backend_pid(db) == first
    assert len(pings) == before


def test_a_connection_that_died_within_the_window_fails_once_then_is_replaced(one_connection, monkeypatch):
    db = one_connection
    monkeypatch.setattr(db_ping, "PING_AFTER_IDLE_SECONDS", 60.0)
    dead = backend_pid(db)
    terminate(db, dead)
    with pytest.raises(OperationalError) as failed:
        backend_pid(db)
    assert failed.value.connection_invalidated  # what execution.record_outcome retries on
    db.session.rollback()
    assert backend_pid(db) != dead
