"""Cluster-wide leases with a fencing epoch, on PostgreSQL and on the embedded SQLite."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from jobs.reconcile_timer import reconcile_if_holder
from webapp import leases
from webapp.clock import frozen_at, utcnow

TTL = timedelta(seconds=30)


def lease_row(db, name: str):
    db.session.rollback()
    return db.session.execute(select(leases.leases).where(leases.leases.c.name == name)).one_or_none()


def check_lease_lifecycle(db) -> None:
    """The whole contract, used on both databases."""
    start = utcnow()
    with frozen_at(start):
        assert leases.acquire("solo", "a", TTL) == 1
        assert leases.acquire("solo", "b", TTL) is None  # held by a
        assert leases.acquire("solo", "a", TTL) == 1  # acquiring what you hold renews it
    with frozen_at(start + TTL + timedelta(seconds=1)):  # a's tenure lapsed
        assert leases.renew("solo", "a", 1, TTL) is False
        assert leases.acquire("solo", "b", TTL) == 2
    with frozen_at(start + TTL + timedelta(seconds=5)):
        assert leases.renew("solo", "b", 2, TTL) is True
        assert leases.release("solo", "a", 1) is False  # a stale holder cannot end b's tenure
        assert leases.release("solo", "b", 2) is True
        assert leases.acquire("solo", "a", TTL) == 3  # free at once after a release; the epoch never goes back


def test_a_lease_passes_between_holders_with_a_growing_epoch_on_postgresql(app, db):
    check_lease_lifecycle(db)
    row = lease_row(db, "solo")
    assert (row.holder, row.epoch) == ("a", 3)


def test_a_lease_passes_between_holders_with_a_growing_epoch_on_sqlite(tmp_path):
    from webapp import create_app
    from webapp.extensions import db as database

    embedded = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'leases.db'}"})
    with embedded.app_context():
        database.create_all()
        check_lease_lifecycle(database)
        assert lease_row(database, "solo").epoch == 3
        database.session.remove()
        database.engine.dispose()


def test_renewing_within_the_ttl_keeps_the_epoch_and_pushes_the_expiry(app, db):
    start = utcnow()
    with frozen_at(start):
        epoch = leases.acquire("renewed", "a", TTL)
    with frozen_at(start + TTL - timedelta(seconds=1)):
        assert leases.renew("renewed", "a", epoch, TTL) is True
    with frozen_at(start + TTL + timedelta(seconds=1)):  # past the first expiry, within the renewed one
        assert leases.acquire("renewed", "b", TTL) is None
        assert leases.acquire("renewed", "a", TTL) == epoch


def test_a_fenced_write_of_a_stale_holder_changes_nothing(app, db):
    start = utcnow()
    with frozen_at(start):
        old = leases.acquire("writer", "a", TTL)
    with frozen_at(start + TTL * 2):
        new = leases.acquire("writer", "b", TTL)
        assert new == old + 1

        def fenced_write(holder: str, epoch: int) -> int:
            statement = update(leases.leases).where(leases.leases.c.name == "writer",
                                                    leases.fence("writer", epoch)).values(holder=holder)
            count = db.session.execute(statement).rowcount
            db.session.commit()
            return count

        assert fenced_write("a-woke-up", old) == 0
        assert fenced_write("b", new) == 1


def test_many_processes_racing_for_a_free_lease_exactly_one_wins(app, db):
    contenders = 8
    barrier = threading.Barrier(contenders)
    results: dict[str, int | None] = {}

    def contend(holder: str) -> None:
        with app.app_context():
            barrier.wait()
            results[holder] = leases.acquire("race", holder, TTL)

    threads = [threading.Thread(target=contend, args=(f"host:{n}",)) for n in range(contenders)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    winners = [holder for holder, epoch in results.items() if epoch is not None]
    assert len(results) == contenders and len(winners) == 1
    assert results[winners[0]] == 1
    assert lease_row(db, "race").holder == winners[0]


@pytest.mark.parametrize("reconcilers", [2, 5])
def test_reconcilers_started_together_run_one_reconcile(app, db, redis, reconcilers):
    barrier = threading.Barrier(reconcilers)
    epochs: list[int | None] = []
    reports: list[dict | None] = []

    def tick(holder: str) -> None:
        with app.app_context():
            barrier.wait()
            epoch, report = reconcile_if_holder(30, holder)
            epochs.append(epoch)
            reports.append(report)

    threads = [threading.Thread(target=tick, args=(f"worker-{n}:{n}",)) for n in range(reconcilers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(epochs, key=lambda e: e is None) == [1] + [None] * (reconcilers - 1)
    assert sum(report is not None for report in reports) == 1
