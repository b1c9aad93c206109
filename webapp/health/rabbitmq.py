"""RabbitMQ check: one long-lived connection, a publish and a consume on a private queue.

Opening an AMQP connection costs several round trips and a log line on the broker, so the
check keeps one connection and channel and re-opens them only when they break. Its queue is
server-named, exclusive and auto-delete: it belongs to this connection alone, disappears with
it, and no other queue or exchange is touched (publishing goes through the default exchange
straight to that queue).
"""
from __future__ import annotations

import contextlib
import secrets
import threading
import time
from typing import Any

import pika

from webapp.health.checks import HealthCheck, Status


class RabbitMQHealthCheck(HealthCheck):
    name = "rabbitmq"

    def __init__(self, url: str, timeout: float, slow_ms: float):
        super().__init__(timeout, slow_ms)
        self.parameters = pika.URLParameters(url)
        self.parameters.socket_timeout = timeout
        self.parameters.stack_timeout = timeout
        self.parameters.blocked_connection_timeout = timeout
        self.parameters.connection_attempts = 1
        self.parameters.heartbeat = 60
        self.lock = threading.Lock()
        self.connection: pika.BlockingConnection | None = None
        self.channel = None
        self.queue = ""
        self.connects = 0

    def probe(self) -> tuple[Status, dict[str, Any]]:
        """One fresh attempt after a kept connection fails: the broker may have dropped it while idle."""
        with self.lock:
            if self.is_open():
                try:
                    return self.round_trip()
                except Exception:
                    self.close()
            try:
                return self.round_trip()
            except Exception:
                self.close()
                raise

    def is_open(self) -> bool:
        return bool(self.connection and self.connection.is_open and self.channel and self.channel.is_open)

    def round_trip(self) -> tuple[Status, dict[str, Any]]:
        if not self.is_open():
            self.close()
            self.open()
        token = secrets.token_hex(8).encode()
        self.channel.basic_publish(exchange="", routing_key=self.queue, body=token)
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            _, _, body = self.channel.basic_get(self.queue, auto_ack=True)
            if body == token:
                return Status.HEALTHY, {"connections_opened": self.connects, "queue": self.queue}
            if body is None:
                self.connection.process_data_events(time_limit=0.001)
        return Status.UNHEALTHY, {"connections_opened": self.connects,
                                  "error": "the probe message did not come back in time"}

    def open(self) -> None:
        self.connection = pika.BlockingConnection(self.parameters)
        self.channel = self.connection.channel()
        declared = self.channel.queue_declare(queue="", exclusive=True, auto_delete=True)
        self.queue = declared.method.queue
        self.connects += 1

    def close(self) -> None:
        connection, self.connection, self.channel = self.connection, None, None
        if connection is not None and connection.is_open:
            with contextlib.suppress(Exception):  # already broken; dropping our reference is all that is left
                connection.close()
