"""An RQ worker whose work horse outlives its jobs (``WORKER_MODE=persistent``, the default).

RQ's ``Worker`` forks a new work horse for every job. That isolates jobs well but makes every
step pay for a fork, a cold SQLAlchemy pool (a new PostgreSQL connection and login), cold
compiled-statement caches and a new Redis connection. RQ's ``SimpleWorker`` avoids all of that
by running jobs inside the worker itself, but then nothing can stop a job that hangs past its
timeout or is cancelled, short of killing the worker, and a crash in a job takes the worker down.

This worker keeps both guarantees of the forking worker and most of the speed of
``SimpleWorker``:

- The parent stays a plain RQ worker: it dequeues, writes the execution record, sends
  heartbeats, listens for RQ's ``stop-job`` command and enforces the hard timeout (the job's
  timeout plus 60 s), all with RQ's own code (``Worker.monitor_work_horse``).
- ONE horse is forked, after the job modules are imported, and runs jobs sent to it over a
  pipe, one at a time, with RQ's own ``perform_job`` (so results, failures, retries and
  registries are exactly RQ's). It keeps its database pool and Redis client between jobs.
  It writes one byte back when a job is done. The parent sends the job as it dequeued it and
  its execution record (``SentJob``), so the horse starts from the same state a forked horse
  inherits, without reading both back from Redis (two round trips per job).
- To stop a job (``stop-job``, hard timeout, cold shutdown) the parent kills the horse's
  process group, exactly as the forking worker does, and forks a fresh horse for the next job.
- A horse that dies on its own (SIGKILL, out of memory) closes its pipe; the parent reaps it,
  fails the RQ job as "work-horse terminated unexpectedly" and forks a new horse for the next
  job. The step it was running names the dead horse's ``host:pid`` in ``step_runs.worker``, so
  the reconciler marks it ``crashed`` and retries it, as in the forking mode.
- A job that RAISES (RQ marks it failed) retires its horse after it. The engine's step job only
  raises when it could not commit its claim or its outcome (a deadlock, a lost database), which
  can leave the step ``running``; the reconciler decides "crashed" by whether the ``host:pid``
  that claimed the step is alive, so that process must not live on running other jobs. This is
  what the forking mode does anyway, and failed jobs are rare enough to cost nothing.

The step's own ``timeout`` is enforced inside the horse by SIGALRM (``runs.execution``), as
before; the parent's hard timeout is the backstop for a step that ignores it.
"""
from __future__ import annotations

import contextlib
import errno
import logging
import os
import pickle
import random
import signal
import struct
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from rq.executions import Execution
from rq.job import Job
from rq.queue import Queue
from rq.worker import Worker

log = logging.getLogger(__name__)
DONE = b"1"
RETIRED = b"0"  # done, and exiting: the job failed (see the module doc)
HORSE_EXIT_SECONDS = 5.0
LENGTH = struct.Struct("!I")  # each message on the jobs pipe: its length, then the pickled SentJob


@dataclass(frozen=True)
class SentJob:
    """What the parent hands the horse: the job's fields as RQ stores them (``Job.to_dict``)
    and the execution record the parent just created for it."""

    job_id: str
    queue: str
    fields: dict[str, Any]
    execution_id: str
    execution_created_at: datetime
    execution_heartbeat: datetime


def write_message(fd: int, sent: SentJob) -> None:
    """Write all of it: a write interrupted by a signal may have written only part."""
    payload = pickle.dumps(sent)
    view = memoryview(LENGTH.pack(len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def read_message(stream: BinaryIO) -> SentJob | None:
    """The next job, or None when the parent closed the pipe."""
    header = stream.read(LENGTH.size)
    if len(header) < LENGTH.size:
        return None
    return pickle.loads(stream.read(LENGTH.unpack(header)[0]))  # noqa: S301 (our own parent's pipe)


@dataclass
class Horse:
    """The live horse: its pid, the pipe the parent writes jobs to, the pipe it answers on."""

    pid: int
    jobs: int
    done: int
    job_id: str = ""
    doomed: bool = False  # killed, or retiring: replace it before the next job

    def close(self) -> None:
        for fd in (self.jobs, self.done):
            with contextlib.suppress(OSError):
                os.close(fd)


class PersistentHorseWorker(Worker):
    """``Worker`` with the fork per job replaced by one long-lived horse (see the module doc)."""

    _horse: Horse | None = None

    def after_fork(self) -> None:
        """Called once in each new horse before its first job; subclasses reset inherited pools."""

    # --- parent side -------------------------------------------------------------------------
    def fork_work_horse(self, job: Job, queue: Queue) -> None:
        """Hand ``job`` to the live horse (forking one first if there is none)."""
        sent = SentJob(job.id, queue.name, job.to_dict(), self.execution.id, self.execution.created_at,
                       self.execution.last_heartbeat)
        horse = self._ready_horse()
        try:
            write_message(horse.jobs, sent)
        except BrokenPipeError:  # it died while idle, after the liveness check
            self._discard_horse(wait=True)
            horse = self._ready_horse()
            write_message(horse.jobs, sent)
        self._horse_pid, horse.job_id = horse.pid, job.id
        self.procline(f"Sent {job.id} to horse {horse.pid}")

    def _ready_horse(self) -> Horse:
        horse = self._horse
        if horse is not None and (horse.doomed or self._reap(horse, block=False)):
            self._discard_horse(wait=True)
            horse = None
        return horse or self._spawn_horse()

    def _spawn_horse(self) -> Horse:
        jobs_read, jobs_write = os.pipe()
        done_read, done_write = os.pipe()
        pid = os.fork()
        if pid == 0:  # the horse
            os.close(jobs_write)
            os.close(done_read)
            self._horse_main(jobs_read, done_write)
        os.close(jobs_read)
        os.close(done_write)
        self._horse = Horse(pid, jobs_write, done_read)
        self.log.info("Worker %s: started work horse %s", self.name, pid)
        return self._horse

    def wait_for_horse(self):
        """Block until the horse answers for the current job, or dies.

        Returns what ``os.wait4`` would for a forking horse: ``(pid, 0, None)`` for a finished
        job, the reaped status of a dead horse otherwise. ``monitor_work_horse`` wraps this in
        its SIGALRM heartbeat timer, which interrupts the read.
        """
        horse = self._horse
        if horse is None:
            return None, None, None
        answer = os.read(horse.done, 1)
        if answer in (DONE, RETIRED) and not horse.doomed:
            horse.doomed = answer == RETIRED
            return horse.pid, os.EX_OK, None
        while answer:  # killed while finishing a job: drain to the end of the pipe
            answer = os.read(horse.done, 1)
        return self._discard_horse(wait=True)

    def kill_horse(self, sig: signal.Signals = signal.SIGKILL) -> None:
        """Kill the horse's whole process group (it may have started subprocesses)."""
        horse = self._horse
        if horse is None:
            return
        horse.doomed = True
        try:
            os.killpg(horse.pid, sig)
            self.log.info("Worker %s: killed horse pid %s (job %s)", self.name, horse.pid, horse.job_id)
        except ProcessLookupError:
            self.log.debug("Worker %s: horse already dead", self.name)

    def _reap(self, horse: Horse, block: bool):
        """``(pid, status, rusage)`` of the exited horse, or None if it is still alive."""
        try:
            pid, status, rusage = os.wait4(horse.pid, 0 if block else os.WNOHANG)
        except ChildProcessError:  # already reaped
            return horse.pid, None, None
        return (pid, status, rusage) if pid else None

    def _discard_horse(self, wait: bool):
        horse, self._horse = self._horse, None
        if horse is None:
            return None, None, None
        horse.close()
        return self._reap(horse, block=True) if wait else (horse.pid, None, None)

    def teardown(self) -> None:
        """Stop the idle horse too: closing its pipe makes it exit; kill it if it lingers."""
        horse = self._horse
        if horse is not None and not self.is_horse:
            horse.close()
            waited = 0.0
            while self._reap(horse, block=False) is None and waited < HORSE_EXIT_SECONDS:
                time.sleep(0.05)
                waited += 0.05
            if waited >= HORSE_EXIT_SECONDS:
                self.kill_horse()
                self._reap(horse, block=True)
            self._horse = None
        super().teardown()

    # --- horse side --------------------------------------------------------------------------
    def _horse_main(self, jobs_fd: int, done_fd: int) -> None:
        """Run jobs read from ``jobs_fd`` until the parent closes it; never returns."""
        status = 0
        try:
            os.setpgrp()
            random.seed()
            self.setup_work_horse_signals()
            signal.signal(signal.SIGALRM, signal.SIG_DFL)
            self._is_horse = True
            self.after_fork()
            with os.fdopen(jobs_fd, "rb") as jobs:
                while (sent := read_message(jobs)) is not None:
                    succeeded = self._perform_sent_job(sent)
                    os.write(done_fd, DONE if succeeded else RETIRED)
                    if not succeeded:
                        break
        except OSError as error:
            status = 0 if error.errno == errno.EPIPE else 1  # EPIPE: the parent is gone
        except BaseException:  # a failure outside perform_job: the parent treats it as a crash
            log.exception("work horse %s failed", os.getpid())
            status = 1
        os._exit(status)

    def _perform_sent_job(self, sent: SentJob) -> bool:
        queue = next((q for q in self.queues if q.name == sent.queue), None) or self.queue_class(
            sent.queue, connection=self.connection, job_class=self.job_class, serializer=self.serializer)
        job = self.job_class(sent.job_id, connection=self.connection, serializer=self.serializer)
        encoder = self.connection.get_encoder()  # the fields as Redis would give them back
        job.restore({name.encode(): encoder.encode(value) for name, value in sent.fields.items()})
        self.execution = Execution(sent.execution_id, job.id, connection=self.connection, worker_name=self.name)
        self.execution.created_at, self.execution.last_heartbeat = sent.execution_created_at, sent.execution_heartbeat
        os.environ["RQ_JOB_ID"] = job.id
        return self.perform_job(job, queue)
