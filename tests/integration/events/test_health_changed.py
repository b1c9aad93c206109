"""``health.changed`` fires once per change of the system status, however many writers."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from webapp.clock import utcnow
from webapp.events.models import Event
from webapp.health.aggregator import Snapshot
from webapp.health.checks import CheckResult, Status


def snapshot(status: Status, rabbitmq: Status) -> Snapshot:
    checks = {"redis": CheckResult(Status.HEALTHY), "database": CheckResult(Status.HEALTHY),
              "rabbitmq": CheckResult(rabbitmq)}
    return Snapshot(status, utcnow(), 1.0, checks, True)


def changes(db) -> list[dict]:
    db.session.expire_all()
    return [row.payload for row in db.session.scalars(select(Event).where(Event.type == "health.changed")
                                                        .order_by(Event.id))]


def test_health_changed_fires_once_per_change_with_the_checks_that_changed(app, db, redis):
    from webapp.health.service import record_history

    def record(item: Snapshot) -> None:
        with app.app_context():
            record_history(item)

    healthy, degraded = snapshot(Status.HEALTHY, Status.HEALTHY), snapshot(Status.DEGRADED, Status.DEGRADED)
    record(healthy)
    record(healthy)
    assert changes(db) == []
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(record, [degraded] * 16))
    record(healthy)
    record(healthy)
    assert changes(db) == [
        {"from": "HEALTHY", "to": "DEGRADED", "checks": {"rabbitmq": {"from": "HEALTHY", "to": "DEGRADED"}}},
        {"from": "DEGRADED", "to": "HEALTHY", "checks": {"rabbitmq": {"from": "DEGRADED", "to": "HEALTHY"}}},
    ]
    assert {row.subject for row in db.session.scalars(select(Event))} == {"health"}
