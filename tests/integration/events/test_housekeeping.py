"""The dispatcher's chores: retention of the outbox, and webhook jobs lost on the way."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from webapp.clock import utcnow
from webapp.events.models import Event
from webapp.events.service import publish
from webapp.events.webhooks import fanout, service
from webapp.queues import get_queue


def test_flask_events_prune_deletes_old_published_and_failed_rows_and_never_pending_ones(db, flask_cli):
    now = utcnow()
    old = now - timedelta(days=8)
    rows = {name: publish("run.test", {"run_id": index}) for index, name in
            enumerate(("old_published", "recent_published", "old_failed", "old_pending"))}
    rows["old_published"].published_at = old
    rows["recent_published"].published_at = now - timedelta(days=6)
    rows["old_failed"].failed_at = old
    rows["old_pending"].created_at = old - timedelta(days=30)
    db.session.commit()
    ids = {name: row.id for name, row in rows.items()}

    done = flask_cli("events", "prune", extra_env={"EVENTS_RETENTION_DAYS": "7"})
    assert done.returncode == 0, done.stderr
    assert "pruned 2 events" in done.stdout
    db.session.expire_all()
    left = set(db.session.scalars(select(Event.id)))
    assert left == {ids["recent_published"], ids["old_pending"]}


def test_housekeeping_queues_again_a_delivery_whose_job_was_lost(app, db, redis, make_user, allow_local):
    from webapp.events.housekeeping import housekeeping
    from webapp.events.webhooks.models import WebhookDelivery

    service.create(make_user("admin"), "http://127.0.0.1:9/in", ["run.*"])
    message = {"id": "501", "type": "run.failed", "occurred_at": "2026-12-01T09:00:00Z", "subject": "run:3",
               "data": {"run_id": 3}}
    lost, due = fanout.plan_deliveries([message, {**message, "id": "502"}])
    lost.next_attempt_at = utcnow() - fanout.OVERDUE_GRACE - timedelta(seconds=5)
    due.next_attempt_at = utcnow()  # not overdue yet: its job may still be on its way
    db.session.commit()
    queue = get_queue()
    assert queue.count == 0  # planned, never queued: as if Redis had lost the jobs

    housekeeping(app)
    jobs = queue.get_jobs()
    assert [(job.func_name, job.args) for job in jobs] == [(fanout.JOB, (lost.id, 0))]
    assert db.session.get(WebhookDelivery, due.id).status == "pending"
