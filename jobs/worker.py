"""``flask worker``: an RQ worker whose jobs run inside the Flask app context.

Two modes (``WORKER_MODE`` or ``--mode``), both plain RQ on the same queues:
- ``persistent`` (the default): one long-lived work horse per worker runs job after job with a
  warm database pool and Redis client (``jobs.horse``); a stopped, timed-out or dead horse is
  replaced. This is the default because a step no longer pays for a fork and a new database
  connection, which was most of the engine's per-step cost.
- ``fork``: RQ's ``Worker``, a fresh work horse per job. Choose it for job code that leaks
  memory or state between jobs and cannot be fixed.
"""
from __future__ import annotations

import importlib

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Worker
from rq.job import Job

from jobs.horse import PersistentHorseWorker
from jobs.reconcile_timer import ReconcileTimer
from jobs.redis_outage import RidesOutRedisOutages
from jobs.scheduler import SchedulerThread
from webapp import logs
from webapp.events.leader import DispatcherLeader
from webapp.extensions import db
from webapp.metrics.worker import observe_job
from webapp.metrics.worker import serve as serve_worker_metrics
from webapp.queues import redis_client, redis_connection

JOB_MODULES = ("jobs.maintenance", "jobs.steps", "jobs.webhooks", "jobs.memory")
WORKER_MODES = ("persistent", "fork")


class AppJob(Job):
    """Wraps each job in the worker's app context, as flask-rq does."""

    app: Flask

    def perform(self):
        with self.app.app_context(), logs.bound(job_id=self.id):
            return super().perform()


class FlowdeckWorkerMixin(RidesOutRedisOutages):
    """What both modes add to RQ: the job id on every log line about a job (the worker's and
    the horse's), a database pool that never crosses a fork, and surviving a Redis outage
    (``jobs.redis_outage``).

    SQLAlchemy connections must not be shared with the parent, so a new horse drops the pool
    it inherited (without closing the parent's sockets) before its first job.
    """

    job_class: type[AppJob]
    observe_jobs = False  # set by ``flask worker`` when WORKER_METRICS_PORT serves step metrics

    def execute_job(self, job: Job, queue) -> None:
        with logs.bound(job_id=job.id):
            super().execute_job(job, queue)
        # Metrics hook (webapp.metrics.worker): this runs in the parent, after the horse is done.
        if self.observe_jobs:
            observe_job(job, self.name)

    def perform_job(self, job: Job, queue) -> bool:
        with logs.bound(job_id=job.id):
            return super().perform_job(job, queue)

    def after_fork(self) -> None:
        with self.job_class.app.app_context():
            for engine in db.engines.values():
                engine.dispose(close=False)


class FlowdeckWorker(FlowdeckWorkerMixin, Worker):
    """``fork`` mode: RQ's worker, one new horse per job."""

    def main_work_horse(self, job: Job, queue) -> None:
        self.after_fork()
        super().main_work_horse(job, queue)


class FlowdeckPersistentWorker(FlowdeckWorkerMixin, PersistentHorseWorker):
    """``persistent`` mode: one long-lived horse (see ``jobs.horse``)."""


def preload_job_modules() -> None:
    """Import the job modules once in the parent, as gunicorn's --preload does.

    Horses are forked from the parent and resolve the job's function by name; without this,
    every new horse imports the engine, step kinds and templating afresh.
    """
    for module in JOB_MODULES:
        importlib.import_module(module)


def job_class_for(app: Flask) -> type[AppJob]:
    return type("BoundAppJob", (AppJob,), {"app": app})


def worker_class_for(mode: str) -> type[Worker]:
    return FlowdeckPersistentWorker if mode == "persistent" else FlowdeckWorker


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: RQ's host.pid).")
@click.option("--mode", type=click.Choice(WORKER_MODES), default=None,
              help="persistent: one long-lived work horse; fork: a new horse per job (default: WORKER_MODE).")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(burst: bool, name: str | None, mode: str | None, queues: tuple[str, ...]) -> None:
    """Run an RQ worker on QUEUES (default: every queue in RQ_QUEUES)."""
    app = current_app._get_current_object()
    preload_job_modules()
    worker = worker_class_for(mode or app.config["WORKER_MODE"])(
        list(queues) or app.config["RQ_QUEUES"],
        connection=redis_connection(),
        job_class=job_class_for(app),
        name=name,
    )
    worker.observe_jobs = serve_worker_metrics(app.config["WORKER_METRICS_PORT"])
    scheduler = None if burst else SchedulerThread(
        worker.queue_names(), redis_client(app.config["REDIS_URL"], timeout=5), worker.name)
    if scheduler:
        scheduler.start()
    interval = app.config["RECONCILE_INTERVAL_SECONDS"]
    timer = ReconcileTimer(app, interval) if interval and not burst else None
    if timer:
        timer.start()
    leader = DispatcherLeader(app) if app.config["EVENTS_DISPATCH_IN_WORKER"] and not burst else None
    if leader:
        leader.start()
    try:
        # RQ's own scheduler process only for a burst (one pass, then exit); see jobs.scheduler
        worker.work(burst=burst, with_scheduler=burst, logging_level=app.config["LOG_LEVEL"])
    finally:
        if scheduler:
            scheduler.stop()
        if timer:
            timer.stop()
        if leader:
            leader.stop()
