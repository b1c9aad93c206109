"""Event bus fixtures: a real RabbitMQ consumer, dispatcher processes, outbox helpers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable
from ipaddress import ip_network
from typing import Any

import pika
import pytest

from tests.conftest import BIN, ROOT
from tests.integration.runs.conftest import Workers, make_workflow, operator, wait_until, workers  # noqa: F401

AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2F")
EXCHANGE = "flowdeck.events"


class Consumer:
    """An exclusive queue bound to ``flowdeck.events``; collects decoded messages."""

    def __init__(self, binding: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(AMQP_URL))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(EXCHANGE, exchange_type="topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True, auto_delete=True).method.queue
        self.channel.queue_bind(self.queue, EXCHANGE, routing_key=binding)
        self.messages: list[dict[str, Any]] = []
        self.properties: list[pika.BasicProperties] = []

    def drain(self) -> list[dict[str, Any]]:
        while True:
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                return self.messages
            self.messages.append(json.loads(body))
            self.properties.append(properties)

    def wait_for(self, count: int, timeout: float = 60) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.drain()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"got {len(self.messages)} of {count} messages in {timeout}s")
            self.connection.sleep(0.05)
        return self.messages

    def close(self) -> None:
        if self.connection.is_open:
            self.connection.close()


@pytest.fixture
def consumer():
    made: list[Consumer] = []

    def make(binding: str = "#") -> Consumer:
        made.append(Consumer(binding))
        return made[-1]

    yield make
    for item in made:
        item.close()


class Dispatchers(Workers):
    """``flask events dispatch`` processes, each in its own process group; stopped like workers."""

    def start(self, amqp_url: str = AMQP_URL, *args: str, **env: str) -> subprocess.Popen:
        log = open(self.log_dir / f"dispatcher-{len(self.processes)}.log", "w")
        process = subprocess.Popen([str(BIN / "flask"), "events", "dispatch", "--amqp-url", amqp_url, *args],
                                   cwd=ROOT, env={**self.env, **env}, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
        self.processes.append(process)
        return process

    def kill(self, process: subprocess.Popen) -> None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=20)

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.log_dir.glob("dispatcher-*.log")))


@pytest.fixture
def allow_local(app):
    """Webhooks may call the test's receiver on 127.0.0.1 (and localhost)."""
    saved = {key: app.config[key] for key in ("WEBHOOK_ALLOWED_HOSTS", "WEBHOOK_ALLOWED_NETWORKS")}
    app.config.update(WEBHOOK_ALLOWED_HOSTS=("127.0.0.1", "localhost"),
                      WEBHOOK_ALLOWED_NETWORKS=(ip_network("127.0.0.1/32"),))
    yield
    app.config.update(saved)


@pytest.fixture
def dispatchers(app, db, redis, test_env, tmp_path):
    pool = Dispatchers({**os.environ, **test_env}, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def add_events(db) -> Callable[..., list[int]]:
    """Commit ``count`` outbox rows (spread over ``subjects`` runs); returns their ids in order."""
    from webapp.events.service import publish

    def add(count: int, subjects: int = 1, type: str = "run.test") -> list[int]:
        rows = [publish(type, {"run_id": 1 + index % subjects, "n": index}) for index in range(count)]
        db.session.commit()
        return [row.id for row in rows]

    return add


def unpublished() -> int:
    from sqlalchemy import func, select

    from webapp.events.models import Event
    from webapp.extensions import db

    return db.session.scalar(select(func.count()).where(Event.published_at.is_(None)))
