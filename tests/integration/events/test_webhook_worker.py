"""A webhook end to end: outbox -> dispatcher process -> RQ job in a real worker -> receiver,
with a 500 retried by an RQ scheduled job."""
from __future__ import annotations

import os

from tests.integration.events.receiver import receiver
from tests.integration.events.test_webhook_delivery import verify_standard_webhook
from tests.integration.runs.conftest import Workers, wait_until
from webapp.events.service import publish
from webapp.events.webhooks import service
from webapp.events.webhooks.models import WebhookDelivery

LOCAL = {"WEBHOOK_ALLOWED_HOSTS": "127.0.0.1", "WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
         "WEBHOOK_RETRY_SCHEDULE": "1,1"}


def test_a_published_event_is_delivered_by_a_worker_and_a_500_retried_by_the_scheduler(
        app, db, redis, test_env, tmp_path, make_user, dispatchers, allow_local):
    workers = Workers({**os.environ, **test_env, **LOCAL}, tmp_path)
    try:
        with receiver() as server:
            server.statuses.append(500)
            hook = service.create(make_user("admin"), server.url + "/in", ["run.failed"])
            secret = hook.secret
            dispatchers.start("")  # Redis only: webhooks do not need RabbitMQ
            workers.start(1)
            failed = publish("run.failed", {"run_id": 77, "workflow_id": 1, "from": "running"})
            publish("run.succeeded", {"run_id": 78, "workflow_id": 1, "from": "running"})  # not subscribed
            db.session.commit()
            wait_until(lambda: len(server.requests) >= 2, 60, "two attempts")
            row = wait_until(lambda: db.session.query(WebhookDelivery).filter_by(status="succeeded").one_or_none(),
                             30, "the delivery to succeed")
    finally:
        workers.stop()
    assert row.attempts == 2 and row.message_id == str(failed.id)
    assert db.session.query(WebhookDelivery).count() == 1
    first, second = server.requests
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"] == str(failed.id)
    assert all(verify_standard_webhook(secret, request["headers"], request["body"]) for request in server.requests)
