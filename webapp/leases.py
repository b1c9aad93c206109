"""Cluster-wide singletons: a lease row in the database, with a fencing epoch.

Some work must run in one place at a time across every worker and host: the reconcile timer
(``jobs.reconcile_timer``), the event dispatcher's leader. Each such role takes a named lease::

    epoch = leases.acquire("reconcile-timer", holder="host:pid", ttl=timedelta(seconds=90))
    if epoch is not None:          # this process is the holder until expires_at
        ...                         # do the work; call renew() before the ttl runs out
    leases.release("reconcile-timer", "host:pid", epoch)

- ``acquire`` is ONE atomic statement (``INSERT ... ON CONFLICT DO UPDATE ... WHERE the lease
  lapsed or is ours ... RETURNING epoch``), on PostgreSQL and on SQLite (the embedded
  ``make run``), so two processes racing for a free lease cannot both win. Acquiring a lease
  you still hold renews it.
- The **epoch** grows by one at every new tenure (another holder, or the same holder after its
  lease lapsed) and never goes back: rows are never deleted, ``release`` only ends the tenure.
  A holder that stalled past its ttl (a GC pause, a frozen VM) and wakes up finds ``renew``
  False. Writes that a stale holder must not make put ``fence(name, epoch)`` in their WHERE
  clause, so the check and the write are one statement in the caller's transaction.
- Each call but ``fence`` runs in its own short transaction on its own connection, never the
  caller's session: a lease must be visible to others at once, and a caller's rollback must not
  undo it.
- Time comes from ``webapp.clock`` (so tests move it instead of sleeping); hosts are expected
  to keep their clocks in sync with NTP. A skew of s seconds makes a lease up to s seconds
  shorter or longer as seen by another host, so choose ttls well above the skew.

Why the database and not Redis or etcd: a Redis ``SET NX`` key is forgotten by a Redis flush or
failover, after which two leaders can run; PostgreSQL is already the source of truth and is
backed up. etcd would add a cluster to operate, and its Python client (python-etcd3) has had no
release since 2020 and breaks with protobuf 4 or later. Session-level advisory locks do not
survive transaction-pooling PgBouncer and give no epoch. See docs/workers.md.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import BigInteger, ColumnElement, String, and_, case, exists, or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from webapp.clock import utcnow
from webapp.extensions import db


class Lease(db.Model):
    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    epoch: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime]


leases = Lease.__table__


def acquire(name: str, holder: str, ttl: timedelta) -> int | None:
    """Take (or renew) lease ``name`` for ``ttl``; its epoch if ``holder`` now holds it, else None."""
    now = utcnow()
    insert = postgresql.insert if db.engine.dialect.name == "postgresql" else sqlite.insert
    statement = insert(leases).values(name=name, holder=holder, epoch=1, expires_at=now + ttl)
    still_ours = and_(leases.c.holder == statement.excluded.holder, leases.c.expires_at > now)
    statement = statement.on_conflict_do_update(
        index_elements=[leases.c.name],
        set_={"holder": statement.excluded.holder, "expires_at": statement.excluded.expires_at,
              "epoch": case((still_ours, leases.c.epoch), else_=leases.c.epoch + 1)},
        where=or_(leases.c.expires_at <= now, leases.c.holder == statement.excluded.holder),
    ).returning(leases.c.epoch)
    with db.engine.begin() as connection:
        return connection.execute(statement).scalar_one_or_none()


def renew(name: str, holder: str, epoch: int, ttl: timedelta) -> bool:
    """Extend a tenure that has not lapsed; False means the lease is lost (stop the work)."""
    now = utcnow()
    return _update(name, holder, epoch, leases.c.expires_at > now, expires_at=now + ttl)


def release(name: str, holder: str, epoch: int) -> bool:
    """End this tenure now so another process can take the lease at once (the epoch stays)."""
    return _update(name, holder, epoch, leases.c.expires_at > utcnow(), expires_at=utcnow())


def fence(name: str, epoch: int) -> ColumnElement[bool]:
    """A SQL condition true while tenure ``epoch`` of ``name`` is current, for the WHERE clause of
    a write only the holder may make (``UPDATE ... WHERE ... AND fence(name, epoch)``)."""
    return exists().where(leases.c.name == name, leases.c.epoch == epoch, leases.c.expires_at > utcnow())


def _update(name: str, holder: str, epoch: int, condition, **values) -> bool:
    statement = update(leases).where(leases.c.name == name, leases.c.holder == holder,
                                     leases.c.epoch == epoch, condition).values(**values)
    with db.engine.begin() as connection:
        return connection.execute(statement).rowcount == 1
