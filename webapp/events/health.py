"""The ``events`` health check: how far the dispatcher is behind.

It reads the outbox over the database check's own one-connection engine (statement timeout,
no app pool), so a saturated app cannot hang it. The age of the oldest unpublished event is
what matters to consumers: over ``EVENTS_BACKLOG_SECONDS`` the check is DEGRADED (RabbitMQ
down, or no dispatcher running). Events failed for good are counted in the details.
"""
from __future__ import annotations

from typing import Any

from webapp.events.queries import backlog_figures, backlog_statement
from webapp.health.checks import DatabaseHealthCheck, HealthCheck, Status


class EventsHealthCheck(HealthCheck):
    name = "events"

    def __init__(self, database: DatabaseHealthCheck, backlog_seconds: float, timeout: float, slow_ms: float,
                 destinations: list[str]):
        super().__init__(timeout, slow_ms)
        self.database = database
        self.backlog_seconds = backlog_seconds
        self.destinations = destinations

    def probe(self) -> tuple[Status, dict[str, Any]]:
        with self.database.engine.connect() as conn:
            figures = backlog_figures(conn.execute(backlog_statement()).one())
        details = {**figures, "destinations": self.destinations}
        age = figures["oldest_pending_age_seconds"]
        if age > self.backlog_seconds:
            error = f"the oldest unpublished event is {age:.0f}s old (over {self.backlog_seconds:.0f}s)"
            return Status.DEGRADED, {**details, "error": error}
        return Status.HEALTHY, details
