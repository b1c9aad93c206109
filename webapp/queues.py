"""Redis and RQ access for the web app, the CLI and the jobs.

One Redis client per app, with explicit socket timeouts so a hung Redis fails fast instead of
hanging a request. ``enqueue`` always sets ``job_timeout``,
``result_ttl`` and ``failure_ttl``; callers override them per job when they know better.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import current_app
from redis import Redis
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from rq import Queue
from rq.job import Job


def redis_client(url: str, timeout: float, decode_responses: bool = False) -> Redis:
    """A Redis client with short timeouts and one immediate retry on a dropped connection.

    redis-py's default retries three times with up to 10 s of backoff, which turns a Redis
    outage into requests that hang for seconds; one retry is enough to replace a pooled
    connection that died while idle, and timeouts are not retried at all.
    """
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                          retry=Retry(NoBackoff(), 1, (RedisConnectionError,)), decode_responses=decode_responses)


def redis_connection() -> Redis:
    """The app's shared client (it holds its own connection pool)."""
    extensions = current_app.extensions
    if "flowdeck_redis" not in extensions:
        extensions["flowdeck_redis"] = redis_client(current_app.config["REDIS_URL"], timeout=5)
    return extensions["flowdeck_redis"]


def get_queue(name: str = "default") -> Queue:
    return Queue(name, connection=redis_connection())


def enqueue(func: Callable[..., Any] | str, *args: Any, queue: str = "default", **options: Any) -> Job:
    config = current_app.config
    options.setdefault("job_timeout", config["JOB_TIMEOUT"])
    options.setdefault("result_ttl", config["JOB_RESULT_TTL"])
    options.setdefault("failure_ttl", config["JOB_FAILURE_TTL"])
    return get_queue(queue).enqueue(func, *args, **options)
