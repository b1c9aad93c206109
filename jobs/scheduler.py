"""RQ's scheduler in a thread of every worker, with a lock a survivor takes over within seconds.

RQ's scheduler moves delayed jobs whose time has come (a retry's backoff) to their queues. RQ
runs it in a process forked by the one worker that holds the queue's Redis lock
(``rq:scheduler-lock:<queue>``), refreshed every second with a TTL of 61 s; the other workers try
to take the lock only in their maintenance pass, every 10 minutes and only between jobs. So when
the holder dies no delayed job moves for minutes, and the scheduler process exits on the first
Redis error, to be restarted only at that same maintenance pass.

Here every worker runs ``SchedulerThread`` instead. Every ``TICK_SECONDS`` (0.5 s; RQ's
scheduler wakes every second) it takes or refreshes the lock of each of its queues for
``LOCK_SECONDS``, with RQ's own script (take a free lock, refresh our own, never touch
another's), then enqueues the due jobs of the queues it holds, with RQ's own
``enqueue_scheduled_jobs``. A holder that dies leaves its locks for at most ``LOCK_SECONDS``;
the survivors try at every tick, so delayed jobs move again within ``LOCK_SECONDS +
TICK_SECONDS`` of its death. A holder stalled past ``LOCK_SECONDS`` finds the lock taken at its
next tick and stops enqueueing. A Redis error skips the tick: the thread rides out an outage and
resumes at the first tick after Redis answers. The lock's value is the worker's name, so
``redis-cli get rq:scheduler-lock:default`` says who schedules.
"""
from __future__ import annotations

import logging
import threading

from redis import Redis
from redis.exceptions import RedisError
from rq.scheduler import RQScheduler
from rq.scripts import acquire_or_refresh_lock

log = logging.getLogger(__name__)
TICK_SECONDS = 0.5
LOCK_SECONDS = 10


class ShortLockScheduler(RQScheduler):
    """``RQScheduler`` whose locks last ``LOCK_SECONDS`` and are taken or refreshed together."""

    def acquire_locks(self, auto_start: bool = False) -> set[str]:
        owned = {name for name in self._queue_names
                 if acquire_or_refresh_lock(self.connection, self.get_locking_key(name), self.name,
                                            LOCK_SECONDS) != "taken"}
        for name in owned - self._acquired_locks:
            log.info("scheduler %s: took the scheduler lock of queue %s", self.name, name)
        for name in self._acquired_locks - owned:
            log.warning("scheduler %s: lost the scheduler lock of queue %s", self.name, name)
        if owned != self._acquired_locks:
            self._scheduled_job_registries = []  # rebuilt for the queues now held
        self._acquired_locks = owned
        return owned


class SchedulerThread(threading.Thread):
    def __init__(self, queue_names: list[str], connection: Redis, worker_name: str) -> None:
        super().__init__(name="flowdeck-scheduler", daemon=True)
        self.scheduler = ShortLockScheduler(queue_names, connection=connection, name=worker_name)
        self.stopped = threading.Event()
        self.failing = False

    def run(self) -> None:
        while not self.stopped.wait(TICK_SECONDS):
            self.tick()
        try:
            self.scheduler.release_locks()  # the others take over at their next tick
        except RedisError as error:  # they lapse on their own
            log.warning("could not release the scheduler locks: %s", error)

    def tick(self) -> None:
        try:
            if self.scheduler.acquire_locks():
                self.scheduler.enqueue_scheduled_jobs()
        except RedisError as error:
            if not self.failing:
                log.warning("scheduler: Redis unavailable (%s); trying again every %ss", error, TICK_SECONDS)
            self.failing = True
            return
        if self.failing:
            log.info("scheduler: Redis answers again")
        self.failing = False

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=5)
