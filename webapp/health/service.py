"""The health subsystem as the app uses it: one aggregator per process, readiness, history.

Views, the API, the CLI and the benchmark call these functions; none of them reads ``request``.
"""
from __future__ import annotations

import hmac
import json
import threading
from typing import Any

from flask import Flask, current_app
from redis import Redis, RedisError

from webapp.events.health import EventsHealthCheck
from webapp.events.health_changes import announce as announce_health_change
from webapp.extensions import db
from webapp.health.aggregator import Snapshot, SystemHealthAggregator
from webapp.health.checks import (
    DatabaseHealthCheck,
    HealthCheck,
    NotConfiguredCheck,
    RedisHealthCheck,
    Status,
)
from webapp.health.rabbitmq import RabbitMQHealthCheck
from webapp.health.workers import WorkersHealthCheck
from webapp.queues import redis_client

EXTENSION = "flowdeck_health"
HISTORY_KEY = "flowdeck:health:history"
READINESS_CHECKS = ["database", "redis"]
_build_lock = threading.Lock()


def build_checks(config: dict[str, Any], app_engine=None) -> list[HealthCheck]:
    timeout, slow = config["HEALTH_TIMEOUT_SECONDS"], config["HEALTH_SLOW_MS"]
    rabbitmq: HealthCheck = (RabbitMQHealthCheck(config["AMQP_URL"], timeout, slow) if config["AMQP_URL"]
                             else NotConfiguredCheck("rabbitmq", "AMQP_URL"))
    database = DatabaseHealthCheck(config["SQLALCHEMY_DATABASE_URI"], app_engine, timeout, slow)
    destinations = (["rabbitmq"] if config["AMQP_URL"] else []) + ["redis"]
    return [
        database,
        RedisHealthCheck(config["REDIS_URL"], timeout, slow),
        rabbitmq,
        WorkersHealthCheck(config["REDIS_URL"], config["RQ_QUEUES"], timeout, slow,
                           config["HEALTH_QUEUE_BACKLOG"], config["HEALTH_HEARTBEAT_SECONDS"]),
        EventsHealthCheck(database, config["EVENTS_BACKLOG_SECONDS"], timeout, slow, destinations),
    ]


def aggregator(app: Flask | None = None) -> SystemHealthAggregator:
    """This process's aggregator, built on first use (never at import, never before a fork)."""
    app = app or current_app._get_current_object()
    if EXTENSION not in app.extensions:
        with _build_lock, app.app_context():
            if EXTENSION not in app.extensions:
                config = app.config
                app.extensions[EXTENSION] = SystemHealthAggregator(
                    build_checks(config, db.engine), config["HEALTH_DEADLINE_SECONDS"], config["HEALTH_CACHE_SECONDS"])
    return app.extensions[EXTENSION]


def history_client() -> Redis:
    extensions = current_app.extensions
    if "flowdeck_health_history" not in extensions:
        extensions["flowdeck_health_history"] = redis_client(
            current_app.config["REDIS_URL"], current_app.config["HEALTH_TIMEOUT_SECONDS"])
    return extensions["flowdeck_health_history"]


def system_snapshot() -> Snapshot:
    """Every check; a snapshot with freshly run checks is appended to the history."""
    snapshot = aggregator().snapshot()
    if snapshot.refreshed:
        record_history(snapshot)
    return snapshot


def readiness() -> Snapshot:
    """Database and Redis only: what a pod needs to serve requests."""
    return aggregator().snapshot(READINESS_CHECKS)


def check_snapshot(name: str) -> Snapshot | None:
    agg = aggregator()
    return agg.snapshot([name]) if name in agg.checks else None


def record_history(snapshot: Snapshot) -> None:
    """Keep the last HEALTH_HISTORY_SIZE snapshots in Redis; skipped while Redis itself is down."""
    redis_result = snapshot.checks.get("redis")
    if redis_result is None or redis_result.status is Status.UNHEALTHY:
        return
    announce_health_change(history_client(), snapshot)
    entry = json.dumps(snapshot.to_dict(with_details=False))
    try:
        with history_client().pipeline(transaction=True) as pipe:
            pipe.lpush(HISTORY_KEY, entry)
            pipe.ltrim(HISTORY_KEY, 0, current_app.config["HEALTH_HISTORY_SIZE"] - 1)
            pipe.execute()
    except RedisError:
        current_app.logger.warning("could not record the health history", exc_info=True)


def history(limit: int | None = None) -> list[dict[str, Any]]:
    """Recent snapshots, oldest first (the order a chart draws them); empty while Redis is down."""
    size = current_app.config["HEALTH_HISTORY_SIZE"]
    count = min(limit or size, size)
    try:
        raw = history_client().lrange(HISTORY_KEY, 0, count - 1)
    except RedisError:
        return []
    return [json.loads(item) for item in reversed(raw)]


def token_grants_details(presented: str | None) -> bool:
    """A configured HEALTH_TOKEN lets monitoring see details without a user account."""
    expected = current_app.config["HEALTH_TOKEN"]
    return bool(expected and presented) and hmac.compare_digest(expected.encode(), presented.encode())


def http_status(snapshot: Snapshot) -> int:
    return 503 if snapshot.status is Status.UNHEALTHY else 200
