"""``/events/stream``: filtered frames, ``Last-Event-ID`` replay, and no database connection held."""
from __future__ import annotations

import json
import queue
import threading

import pytest

from webapp.events.dispatcher import Dispatcher
from webapp.events.service import publish


def frames(response, stop_after: int | None = None):
    """Parse SSE frames ({"id", "event", "data"}) from a streamed test response."""
    return parse(response.response, stop_after)


def parse(chunks, stop_after: int | None = None, buses: list | None = None):
    buffer = ""
    found = []
    buses = [] if buses is None else buses
    for chunk in chunks:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":")
                          and ": " in line)
            if fields.get("event") == "bus":
                buses.append(json.loads(fields["data"]))
            elif "data" in fields:
                found.append({**fields, "data": json.loads(fields["data"])})
                if stop_after is not None and len(found) >= stop_after:
                    return found
    return found


@pytest.fixture
def short_streams(app):
    saved = app.config["EVENTS_STREAM_MAX_SECONDS"]
    app.config["EVENTS_STREAM_MAX_SECONDS"] = 1.5
    yield
    app.config["EVENTS_STREAM_MAX_SECONDS"] = saved


def dispatch(app) -> None:
    dispatcher = Dispatcher(app)
    while dispatcher.dispatch_once().claimed:
        pass
    dispatcher.close()


def test_last_event_id_replays_the_runs_published_events_after_it(app, client, db, redis, login_as, short_streams):
    login_as("viewer")
    first = publish("run.queued", {"run_id": 5})
    publish("run.queued", {"run_id": 6})
    second = publish("step.running", {"run_id": 5, "step_id": "a"})
    third = publish("run.succeeded", {"run_id": 5})
    db.session.commit()
    dispatch(app)
    response = client.get("/events/stream?run=5", headers={"Last-Event-ID": str(first.id)}, buffered=False)
    assert response.mimetype == "text/event-stream"
    got = frames(response)
    assert [(frame["id"], frame["event"]) for frame in got] == [(str(second.id), "step"), (str(third.id), "run")]
    assert got[1]["data"]["type"] == "run.succeeded"


def test_live_frames_follow_the_topics_filter_and_hold_no_database_connection(app, client, db, redis, login_as,
                                                                             short_streams):
    login_as("viewer")
    response = client.get("/events/stream?topics=health.*,run.failed", buffered=False)
    chunks = iter(response.response)
    assert b"connected" in next(chunks)  # subscribed: what is published from now on is streamed
    db.session.remove()
    pool = db.engine.pool
    checked_out_while_streaming = []
    received: queue.Queue = queue.Queue()

    def read():
        checked_out_while_streaming.append(pool.checkedout())
        received.put(parse(chunks))

    reader = threading.Thread(target=read)
    reader.start()
    publish("run.succeeded", {"run_id": 1})
    wanted = publish("run.failed", {"run_id": 1})
    health = publish("health.changed", {"from": "HEALTHY", "to": "DEGRADED", "checks": {}})
    db.session.commit()
    wanted_id, health_id = str(wanted.id), str(health.id)
    db.session.remove()
    dispatch(app)
    db.session.remove()
    reader.join(timeout=10)
    got = received.get(timeout=1)
    assert [frame["id"] for frame in got] == [wanted_id, health_id]
    assert checked_out_while_streaming == [0]


def test_viewers_get_personal_events_redacted_in_the_stream(app, client, db, redis, login_as, short_streams):
    login_as("viewer")
    locked = publish("user.locked", {"user_id": 3, "email": "a@example.com"})
    db.session.commit()
    dispatch(app)
    got = frames(client.get("/events/stream", headers={"Last-Event-ID": str(locked.id - 1)}, buffered=False))
    assert got[0]["data"]["data"] is None and got[0]["data"]["redacted"] is True


def test_bad_stream_filters_are_422(client, db, login_as):
    login_as("viewer")
    assert client.get("/events/stream?topics=run.**").status_code == 422
    assert client.get("/events/stream?run=zero").status_code == 422


def test_the_stream_says_whether_a_dispatcher_is_running(app, client, db, redis, login_as, short_streams):
    from webapp.events.publishers import RedisPublisher

    login_as("viewer")
    silent: list = []
    parse(client.get("/events/stream", buffered=False).response, buses=silent)
    RedisPublisher(redis).mark_alive(30)
    flowing: list = []
    parse(client.get("/events/stream", buffered=False).response, buses=flowing)
    assert silent == [{"dispatching": False}] and flowing == [{"dispatching": True}]
