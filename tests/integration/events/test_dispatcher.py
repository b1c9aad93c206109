"""The dispatcher against real PostgreSQL and RabbitMQ: once each, in order, nothing lost."""
from __future__ import annotations

import secrets
import socket
from collections import Counter

import pika
from sqlalchemy import select

from tests.integration.events.conftest import AMQP_URL, EXCHANGE, unpublished
from tests.integration.runs.conftest import wait_for_run, wait_until
from webapp.events.dispatcher import Dispatcher
from webapp.events.models import Event


def outbox(db, prefix: str = "") -> list[Event]:
    db.session.expire_all()
    rows = db.session.scalars(select(Event).where(Event.type.startswith(prefix)).order_by(Event.id))
    return list(rows)


def drain(dispatcher: Dispatcher) -> None:
    while dispatcher.dispatch_once().claimed:
        pass


def test_run_binding_receives_every_run_event_of_a_workflow_run_in_order_once(
        app, db, consumer, workers, make_workflow, operator, dispatchers):
    from webapp.runs.actions import trigger_run

    listening = consumer("run.#")
    workflow = make_workflow({"name": "bus-order", "steps": [
        {"id": "a", "uses": "template.render", "with": {"template": "a"}},
        {"id": "b", "uses": "template.render", "needs": ["a"], "with": {"template": "b"}}]})
    dispatchers.start()
    workers.start(1)
    run, _ = trigger_run(workflow.slug, {}, operator)
    wait_for_run(run.id)
    expected = [row for row in outbox(db, "run.") if row.payload.get("run_id") == run.id]
    assert [row.type for row in expected][:2] == ["run.queued", "run.running"]
    messages = listening.wait_for(len(expected))
    listening.connection.sleep(0.5)
    messages = listening.drain()
    assert [message["id"] for message in messages] == [str(row.id) for row in expected]
    assert [message["type"] for message in messages] == [row.type for row in expected]
    assert all(message["subject"] == f"run:{run.id}" for message in messages)
    assert listening.properties[0].message_id == messages[0]["id"]
    assert listening.properties[0].delivery_mode == 2
    assert listening.properties[0].timestamp is not None


def test_two_dispatchers_publish_a_thousand_events_exactly_once(db, consumer, dispatchers, add_events):
    listening = consumer("run.test")
    ids = add_events(1000, subjects=50)
    dispatchers.start()
    dispatchers.start()
    messages = listening.wait_for(1000)
    wait_until(lambda: unpublished() == 0, what="every event published")
    listening.connection.sleep(1.0)
    messages = listening.drain()
    counts = Counter(message["id"] for message in messages)
    assert len(messages) == 1000, [event_id for event_id, count in counts.items() if count > 1][:10]
    assert set(counts) == {str(event_id) for event_id in ids}
    per_run: dict[int, list[int]] = {}
    for message in messages:
        per_run.setdefault(message["data"]["run_id"], []).append(int(message["id"]))
    assert all(run_ids == sorted(run_ids) for run_ids in per_run.values())


def test_a_dispatcher_killed_mid_batch_loses_nothing(db, consumer, dispatchers, add_events):
    listening = consumer("run.test")
    ids = add_events(10_000, subjects=20)  # a few seconds of work: the kill lands mid-stream
    first = dispatchers.start()
    wait_until(lambda: unpublished() < len(ids), what="the first batch committed")  # the outbox, not the
    dispatchers.kill(first)  # consumer, which may lag far behind a fast dispatcher
    assert unpublished() > 0, "the kill came too late to prove anything"
    dispatchers.start()
    wait_until(lambda: unpublished() == 0, what="every event published after the restart")
    listening.connection.sleep(1.0)
    messages = listening.drain()
    assert {message["id"] for message in messages} == {str(event_id) for event_id in ids}
    by_id = {str(row.id): row.payload for row in outbox(db, "run.test")}
    assert all(message["data"] == by_id[message["id"]] for message in messages), "a duplicate changed identity"


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_rabbitmq_keeps_the_backlog_then_publishes_everything(app, db, consumer, dispatchers, add_events):
    from webapp.events.health import EventsHealthCheck
    from webapp.health.checks import DatabaseHealthCheck, Status

    listening = consumer("run.test")
    down = dispatchers.start(f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F")
    ids = add_events(50, subjects=5)
    check = EventsHealthCheck(DatabaseHealthCheck(app.config["SQLALCHEMY_DATABASE_URI"], None, 2, 500),
                              backlog_seconds=1, timeout=2, slow_ms=1000, destinations=["rabbitmq", "redis"])
    degraded = wait_until(lambda: (result := check.run()).status is Status.DEGRADED and result, timeout=30,
                          what="the events check to report the backlog")
    assert degraded.details["pending"] == 50
    assert degraded.details["oldest_pending_age_seconds"] > 1
    assert unpublished() == 50
    more = add_events(10, subjects=5)
    assert unpublished() == 60
    dispatchers.stop()
    assert down.returncode is not None
    dispatchers.start(AMQP_URL)
    wait_until(lambda: unpublished() == 0, what="the backlog to drain")
    messages = listening.wait_for(60)
    assert sorted(int(message["id"]) for message in messages) == ids + more
    assert check.run().status is Status.HEALTHY


def test_poison_event_is_marked_failed_and_does_not_block_its_peers(app, db, consumer):
    from webapp.events.service import publish

    listening = consumer("run.test")
    poison = publish("run.test", {"run_id": 1, "blob": "x" * 4000})
    same_run_after = publish("run.test", {"run_id": 1, "n": 2})
    other_run = publish("run.test", {"run_id": 2, "n": 3})
    db.session.commit()
    overrides = {"EVENTS_MAX_BYTES": 1024, "EVENTS_MAX_ATTEMPTS": 3, "EVENTS_RETRY_SECONDS": 0}
    saved = {key: app.config[key] for key in overrides}
    app.config.update(overrides)
    try:
        dispatcher = Dispatcher(app, amqp_url=AMQP_URL)
        first = dispatcher.dispatch_once()
        assert (first.published, first.retrying, first.held) == (1, 1, 1)
        assert [message["id"] for message in listening.wait_for(1)] == [str(other_run.id)]
        drain(dispatcher)
        dispatcher.close()
    finally:
        app.config.update(saved)
    db.session.expire_all()
    assert poison.failed_at is not None and poison.published_at is None
    assert poison.attempts == 3
    assert "over EVENTS_MAX_BYTES" in poison.last_error
    assert same_run_after.published_at is not None
    assert [message["id"] for message in listening.wait_for(2)] == [str(other_run.id), str(same_run_after.id)]


def test_a_failing_head_holds_only_its_own_runs_later_events(app, db, consumer):
    from webapp.events.service import publish

    listening = consumer("run.test")
    head = publish("run.test", {"run_id": 7, "blob": "x" * 4000})
    behind = publish("run.test", {"run_id": 7, "n": 1})
    other = publish("run.test", {"run_id": 8, "n": 2})
    db.session.commit()
    saved = app.config["EVENTS_MAX_BYTES"]
    app.config["EVENTS_MAX_BYTES"] = 1024
    try:
        dispatcher = Dispatcher(app, amqp_url=AMQP_URL)
        dispatcher.dispatch_once()
        second = dispatcher.dispatch_once()  # the head waits for its retry: its run is not even claimed
        dispatcher.close()
    finally:
        app.config["EVENTS_MAX_BYTES"] = saved
    assert second.claimed == 0
    db.session.expire_all()
    assert head.attempts == 1 and head.next_attempt_at is not None
    assert behind.published_at is None and other.published_at is not None
    assert [message["id"] for message in listening.wait_for(1)] == [str(other.id)]


def test_one_batch_publishes_each_runs_events_in_order_and_counts_unroutable_ones(app, db, consumer, add_events):
    """A batch goes out in waves of one event per run: confirmed together, each run still in order."""
    listening = consumer("run.test")
    ids = add_events(30, subjects=3)  # runs 1, 2, 3 interleaved, ten events each
    unbound = add_events(2, type=f"unbound.{secrets.token_hex(4)}")  # no queue is bound for these
    dispatcher = Dispatcher(app, amqp_url=AMQP_URL)
    try:
        result = dispatcher.dispatch_once()
    finally:
        dispatcher.close()
    assert (result.claimed, result.published, result.unroutable, result.held) == (32, 32, 2, 0)
    assert unpublished() == 0
    listening.wait_for(30)
    listening.connection.sleep(0.5)
    messages = listening.drain()
    assert len(messages) == 30 and not {message["id"] for message in messages} & {str(i) for i in unbound}
    for run_id in (1, 2, 3):
        received = [int(message["id"]) for message in messages if message["subject"] == f"run:{run_id}"]
        assert received == ids[run_id - 1::3]


def test_an_event_the_broker_nacks_is_retried_while_its_run_waits_and_other_runs_go_on(app, db, consumer):
    """A queue that refuses every message (max length 0, reject-publish) makes the broker nack."""
    from webapp.events.service import publish

    kind = f"nacked.{secrets.token_hex(4)}"
    refusing = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
    channel = refusing.channel()
    full = channel.queue_declare("", exclusive=True, auto_delete=True,
                                 arguments={"x-max-length": 0, "x-overflow": "reject-publish"}).method.queue
    channel.queue_bind(full, EXCHANGE, routing_key=kind)
    listening = consumer("run.test")
    refused = publish(kind, {"run_id": 1})
    behind = publish("run.test", {"run_id": 1, "n": 1})
    other = publish("run.test", {"run_id": 2, "n": 2})
    db.session.commit()
    saved = app.config["EVENTS_RETRY_SECONDS"]
    app.config["EVENTS_RETRY_SECONDS"] = 0
    dispatcher = Dispatcher(app, amqp_url=AMQP_URL)
    try:
        first = dispatcher.dispatch_once()
        assert (first.published, first.retrying, first.held) == (1, 1, 1)
        db.session.expire_all()
        assert "nack" in refused.last_error and behind.published_at is None
        assert [message["id"] for message in listening.wait_for(1)] == [str(other.id)]
        refusing.close()  # the refusing queue goes: the retry is accepted (and routed nowhere)
        drain(dispatcher)
    finally:
        dispatcher.close()
        app.config["EVENTS_RETRY_SECONDS"] = saved
    db.session.expire_all()
    assert refused.published_at is not None and refused.attempts == 1
    assert behind.published_at is not None
    assert [message["id"] for message in listening.wait_for(2)] == [str(other.id), str(behind.id)]
