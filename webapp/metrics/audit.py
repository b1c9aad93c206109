"""``flowdeck_login_failures_total`` from the audit trail itself: every failed sign-in (browser,
API, any reason) writes one ``auth.login`` failure row, so counting those rows as they are
inserted counts exactly what the audit page shows, without a hook in the login code."""
from __future__ import annotations

from sqlalchemy import event

from webapp.audit.models import AuditEvent
from webapp.metrics.registry import login_failures


def count_login_failures(mapper, connection, row: AuditEvent) -> None:
    if row.event == "auth.login" and row.outcome == "failure":
        login_failures.inc()


def listen_for_login_failures() -> None:
    if not event.contains(AuditEvent, "after_insert", count_login_failures):
        event.listen(AuditEvent, "after_insert", count_login_failures)
