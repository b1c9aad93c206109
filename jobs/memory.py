"""RQ entry point for the memory maintenance sweep (expired entries, orphaned blobs)."""
from __future__ import annotations

import logging

from redis.exceptions import RedisError

from webapp.memory.service import sweep as sweep_memory
from webapp.queues import redis_connection

log = logging.getLogger(__name__)
SWEEP_EVERY_SECONDS = 3600
SWEEP_MARK = "flowdeck:memory:last-sweep"


def sweep(grace_seconds: float | None = None) -> dict[str, int]:
    """Run ``webapp.memory.service.sweep``; enqueue as ``jobs.memory.sweep`` (or run ``flask memory gc``)."""
    result = sweep_memory(grace_seconds)
    log.info("memory sweep: %s", result)
    return result


def sweep_if_due() -> dict[str, int] | None:
    """The sweep, at most once an hour across the cluster; the periodic reconcile calls it.

    A Redis key marks the last sweep: a Redis flush only brings the next one forward, which is
    harmless, so this needs no lease.
    """
    try:
        due = redis_connection().set(SWEEP_MARK, "1", nx=True, ex=SWEEP_EVERY_SECONDS)
    except RedisError as error:
        log.warning("could not check whether the memory sweep is due: %s", error)
        return None
    return sweep() if due else None
