"""RabbitMQ unreachable while runs go on: the outbox keeps every event, health reports the backlog,
and once the broker is reachable again each event is delivered exactly once (seen on the private
Redis's channel, which only this suite uses; the broker is the shared one, behind a proxy)."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest
from sqlalchemy import select

from tests.faults.checks import assert_intact, chain, report, wait_for_runs
from tests.integration.events.conftest import dispatchers, unpublished  # noqa: F401
from tests.integration.health_servers import TcpProxy
from tests.integration.runs.conftest import wait_until
from webapp.events.models import Event
from webapp.events.publishers import REDIS_CHANNEL
from webapp.runs import actions

RABBITMQ_PORT = 5672
RUNS_BOUND = 60
DRAIN_BOUND = 60


def received_ids(subscription, limit: int = 10_000) -> Counter:
    """Outbox ids of the messages waiting on the subscription (it answers None once it has none for 0.5 s)."""
    ids: Counter = Counter()
    for _ in range(limit):
        message = subscription.get_message(timeout=0.5)
        if message is None:
            break
        if message["type"] == "message":  # not the subscription's confirmation
            ids[int(json.loads(message["data"])["id"])] += 1
    return ids


@pytest.mark.timeout(150)
def test_unreachable_rabbitmq_loses_no_event_reports_the_backlog_and_delivers_each_once_when_back(
        db, redis, client, workers, dispatchers, make_workflow, operator, api_headers, executions):  # noqa: F811
    broker = TcpProxy(RABBITMQ_PORT)  # not started: its port refuses connections, like a broker that is down
    subscription = redis.pubsub()
    subscription.subscribe(REDIS_CHANNEL)
    headers, _ = api_headers("viewer")
    make_workflow(chain("off-the-bus", 0.2))
    dispatcher = dispatchers.start(f"amqp://guest:guest@127.0.0.1:{broker.port}/%2F")
    workers.start(1)
    try:
        runs = [actions.trigger_run("off-the-bus", {}, operator)[0].id for _ in range(3)]
        finished = wait_for_runs(runs, RUNS_BOUND, workers.logs)
        pending = unpublished()
        assert pending >= 3 * 8  # every run and step change is still in the outbox
        health = wait_until(lambda: (body := client.get("/api/v3/health/checks/events", headers=headers).get_json())
                            ["check"]["details"]["pending"] == pending and body, what="health to report the backlog")
        print(f"\n[faults] RabbitMQ unreachable: events check {health['check']['status']}, "
              f"{pending} events pending")
        assert received_ids(subscription) == Counter()  # nothing goes out while one destination is down

        broker.start()
        back = time.monotonic()
        wait_until(lambda: unpublished() == 0, timeout=DRAIN_BOUND, what="the backlog to drain")
        report("RabbitMQ back: the backlog drained after the broker became reachable in", time.monotonic() - back)
        assert dispatcher.poll() is None, dispatchers.logs()
        outbox = set(db.session.scalars(select(Event.id)))
        assert received_ids(subscription) == Counter({event_id: 1 for event_id in outbox})
        assert_intact(finished, executions(), no_retries=True)
    finally:
        subscription.close()
        broker.stop()
