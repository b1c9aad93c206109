"""What lets a worker ride out a Redis outage instead of exiting (both modes).

RQ's work loop quits on any exception it does not expect ("found an unhandled exception,
quitting..."), and during an outage almost every call the parent makes raises: the heartbeat,
the job-monitoring heartbeat while a horse runs (``monitor_work_horse`` ->
``set_current_job_working_time``), the state updates around a job, the suspension check. Only
RQ's dequeue retries, with a backoff that grows to 60 s.

This mixin makes each of those calls survive a ``RedisError``:
- bookkeeping while a horse runs or after it ended (heartbeats, the working time, the state) is
  skipped with a warning: the horse keeps running and the parent keeps waiting for it, so a
  running step is never interrupted, and RQ's hard timeout is still enforced (it uses the
  working time kept in the process, not the one written to Redis);
- a job whose RQ bookkeeping could not be written is left to the reconciler: its step's outcome
  is in PostgreSQL already, the source of truth;
- the idle loop (suspension check, maintenance, dequeue) waits for Redis, trying again every
  ``RECONNECT_SECONDS``, until Redis answers or the worker is told to stop.
"""
from __future__ import annotations

import contextlib
import logging
import time

from redis.exceptions import RedisError
from rq.job import Job
from rq.queue import Queue

log = logging.getLogger(__name__)
RECONNECT_SECONDS = 1.0


class RidesOutRedisOutages:
    """Mixed into an RQ ``Worker`` (before it in the bases)."""

    max_connection_wait_time = RECONNECT_SECONDS  # RQ's dequeue backoff cap (60 s in RQ)

    @contextlib.contextmanager
    def redis_may_fail(self, what: str):
        try:
            yield
        except RedisError as error:
            log.warning("Redis unavailable (%s); skipped %s", error, what)

    def pause_for_redis(self, error: RedisError) -> None:
        log.warning("Redis unavailable (%s); trying again in %ss", error, RECONNECT_SECONDS)
        time.sleep(RECONNECT_SECONDS)

    # --- the idle loop: wait for Redis ---------------------------------------------------------
    def check_for_suspension(self, burst: bool) -> None:
        try:
            super().check_for_suspension(burst)
        except RedisError as error:
            self.pause_for_redis(error)

    def run_maintenance_tasks(self) -> None:
        with self.redis_may_fail("the registry maintenance"):
            super().run_maintenance_tasks()

    def dequeue_job_and_maintain_ttl(self, timeout: int | None, max_idle_time: int | None = None):
        while True:  # ends when Redis answers, or by StopRequested from the stop signal's handler
            try:
                return super().dequeue_job_and_maintain_ttl(timeout, max_idle_time)
            except RedisError as error:
                self.pause_for_redis(error)

    # --- around a job: skip the bookkeeping, never the job -------------------------------------
    def execute_job(self, job: Job, queue: Queue) -> None:
        with self.redis_may_fail(f"the RQ bookkeeping of job {job.id} (the reconciler repairs its step)"):
            super().execute_job(job, queue)

    def heartbeat(self, timeout: int | None = None, pipeline=None) -> None:
        if pipeline is not None:  # queued on the caller's pipeline, which fails or not as a whole
            super().heartbeat(timeout, pipeline)
            return
        with self.redis_may_fail("a heartbeat"):
            super().heartbeat(timeout)

    def maintain_heartbeats(self, job: Job) -> None:
        with self.redis_may_fail(f"the heartbeat of job {job.id}"):
            super().maintain_heartbeats(job)

    def set_current_job_working_time(self, current_job_working_time: float, pipeline=None) -> None:
        if pipeline is not None:
            super().set_current_job_working_time(current_job_working_time, pipeline)
            return
        with self.redis_may_fail("the working time of the current job"):
            super().set_current_job_working_time(current_job_working_time)

    def teardown(self) -> None:
        with self.redis_may_fail("registering the worker's death"):
            super().teardown()
