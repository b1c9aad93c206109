"""Redis and RQ access for the web app, the CLI and the jobs.

One Redis client per app (it holds its own connection pool), with explicit socket timeouts so
a hung Redis fails fast instead of hanging a request. ``enqueue`` always sets ``job_timeout``,
``result_ttl`` and ``failure_ttl`` (STYLE 5); callers override them per job when they know better.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from redis import Redis
from rq import Queue
from rq.job import Job


def redis_connection() -> Redis:
    extensions = current_app.extensions
    if "flowdeck_redis" not in extensions:
        extensions["flowdeck_redis"] = Redis.from_url(
            current_app.config["REDIS_URL"], socket_timeout=5, socket_connect_timeout=2, health_check_interval=30
        )
    return extensions["flowdeck_redis"]


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())


def enqueue(func: Callable[..., Any] | str, *args: Any, queue: str = "default", **options: Any) -> Job:
    config = current_app.config
    options.setdefault("job_timeout", config["JOB_TIMEOUT"])
    options.setdefault("result_ttl", config["JOB_RESULT_TTL"])
    options.setdefault("failure_ttl", config["JOB_FAILURE_TTL"])
    return get_queue(queue).enqueue(func, *args, **options)
