"""Reading RQ's state from Redis, and the two admin actions on failed jobs.

Everything takes the Redis connection as an argument, so the health check can pass its own
short-timeout client while the pages and API use the app's.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from redis import Redis
from rq import Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import FailedJobRegistry

from webapp.audit.service import record
from webapp.exceptions import NotFound
from webapp.extensions import db
from webapp.formatting import iso  # RQ keeps UTC, sometimes without tzinfo: iso() reads that as UTC

# RQ's own ids are UUIDs; callers may pick ids, but nothing that could smuggle a key pattern.
JOB_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
ERROR_LINES = 12


def queue_names(connection: Redis, configured: list[str]) -> list[str]:
    """Configured queues first (they exist even while empty), then any other queue RQ knows."""
    known = [queue.name for queue in Queue.all(connection=connection)]
    return list(dict.fromkeys([*configured, *sorted(known)]))


def queue_stats(connection: Redis, configured: list[str]) -> list[dict[str, Any]]:
    stats = []
    for name in queue_names(connection, configured):
        queue = Queue(name, connection=connection)
        stats.append({"name": name, "queued": queue.count, "started": queue.started_job_registry.count,
                      "scheduled": queue.scheduled_job_registry.count, "deferred": queue.deferred_job_registry.count,
                      "failed": queue.failed_job_registry.count})
    return stats


def queue_depths(connection: Redis, configured: list[str]) -> dict[str, tuple[int, int]]:
    """(queued, failed) per queue in one round trip, for the health check.

    The failed figure is the raw registry size (entries past their TTL are not swept first);
    the /workers page uses ``queue_stats`` for exact figures.
    """
    names = queue_names(connection, configured)
    with connection.pipeline(transaction=False) as pipe:
        for name in names:
            queue = Queue(name, connection=connection)
            pipe.llen(queue.key).zcard(queue.failed_job_registry.key)
        counts = pipe.execute()
    return {name: (counts[2 * i], counts[2 * i + 1]) for i, name in enumerate(names)}


def heartbeat_age(worker: Worker, now: datetime) -> float | None:
    if worker.last_heartbeat is None:
        return None
    return max(0.0, (now - worker.last_heartbeat).total_seconds())


def worker_rows(connection: Redis, now: datetime, fresh_seconds: float) -> list[dict[str, Any]]:
    """Every worker RQ has registered; ``live`` means its heartbeat is younger than ``fresh_seconds``."""
    rows = []
    for worker in sorted(Worker.all(connection=connection), key=lambda w: w.name):
        age = heartbeat_age(worker, now)
        rows.append({
            "name": worker.name, "state": worker.get_state(), "queues": worker.queue_names(),
            "hostname": worker.hostname, "pid": worker.pid,
            "heartbeat_age_s": None if age is None else round(age, 1),
            "live": age is not None and age <= fresh_seconds,
            "current_job_id": worker.get_current_job_id(),
            "successful_jobs": worker.successful_job_count, "failed_jobs": worker.failed_job_count,
            "working_seconds": round(worker.total_working_time, 3),
        })
    return rows


def failed_queue(connection: Redis, name: str, configured: list[str]) -> FailedJobRegistry:
    if name not in queue_names(connection, configured):
        raise NotFound(f"There is no queue named {name!r}.", code="queue_not_found")
    return Queue(name, connection=connection).failed_job_registry


def failed_jobs(connection: Redis, name: str, configured: list[str], limit: int = 50) -> list[dict[str, Any]]:
    registry = failed_queue(connection, name, configured)
    rows = []
    for job in Job.fetch_many(registry.get_job_ids(0, limit - 1, desc=True), connection=connection):
        if job is None:
            continue
        result = job.latest_result()
        error = (result.exc_string if result is not None else None) or ""
        rows.append({"id": job.id, "queue": name, "function": job.func_name, "enqueued_at": iso(job.enqueued_at),
                     "ended_at": iso(job.ended_at), "error": "\n".join(error.strip().splitlines()[-ERROR_LINES:])})
    return rows


def failed_job(connection: Redis, name: str, job_id: str, configured: list[str]) -> tuple[FailedJobRegistry, str]:
    registry = failed_queue(connection, name, configured)
    if not JOB_ID.match(job_id) or job_id not in registry:
        raise NotFound(f"Queue {name!r} has no failed job {job_id!r}.", code="job_not_found")
    return registry, job_id


def requeue_failed(connection: Redis, name: str, job_id: str, configured: list[str], actor=None) -> None:
    """Put a failed job back on its queue; audited, like every admin action (docs/security.md §25)."""
    registry, job_id = failed_job(connection, name, job_id, configured)
    try:
        registry.requeue(job_id)
    except NoSuchJobError:
        raise NotFound(f"Job {job_id!r} no longer exists.", code="job_not_found") from None
    audit("job.requeue", actor, name, job_id)


def delete_failed(connection: Redis, name: str, job_id: str, configured: list[str], actor=None) -> None:
    registry, job_id = failed_job(connection, name, job_id, configured)
    registry.remove(job_id, delete_job=True)
    audit("job.delete", actor, name, job_id)


def audit(event: str, actor, queue: str, job_id: str) -> None:
    record(event, actor=actor, target_type="rq_job", target_id=job_id, details={"queue": queue})
    db.session.commit()
