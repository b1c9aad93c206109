"""``flask worker``: an RQ worker whose jobs run inside the Flask app context."""
from __future__ import annotations

import importlib

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from rq import Worker
from rq.job import Job

from jobs.reconcile_timer import ReconcileTimer
from webapp import logs
from webapp.extensions import db
from webapp.queues import redis_connection

JOB_MODULES = ("jobs.maintenance", "jobs.steps")


class AppJob(Job):
    """Wraps each job in the worker's app context, as flask-rq does.

    The worker forks a work horse per job; SQLAlchemy connections must not cross a fork, so
    the child drops the pool it inherited (without closing the parent's sockets) first.
    """

    app: Flask

    def perform(self):
        with self.app.app_context(), logs.bound(job_id=self.id):
            db.engine.dispose(close=False)
            return super().perform()


class FlowdeckWorker(Worker):
    """Tags every log line about a job, the worker's own included, with the job id."""

    def execute_job(self, job: Job, queue) -> None:
        with logs.bound(job_id=job.id):
            super().execute_job(job, queue)


def preload_job_modules() -> None:
    """Import the job modules once in the parent, as gunicorn's --preload does.

    RQ forks a work horse per job and resolves the job's function by name inside it; without
    this, every horse imports the engine, step kinds and templating afresh, which costs more
    than the step itself.
    """
    for module in JOB_MODULES:
        importlib.import_module(module)


def job_class_for(app: Flask) -> type[AppJob]:
    return type("BoundAppJob", (AppJob,), {"app": app})


@click.command("worker")
@click.option("--burst", is_flag=True, help="Exit once the queues are empty.")
@click.option("--name", default=None, help="Worker name (default: RQ's host.pid).")
@click.argument("queues", nargs=-1)
@with_appcontext
def worker_command(burst: bool, name: str | None, queues: tuple[str, ...]) -> None:
    """Run an RQ worker on QUEUES (default: every queue in RQ_QUEUES)."""
    app = current_app._get_current_object()
    preload_job_modules()
    worker = FlowdeckWorker(
        list(queues) or app.config["RQ_QUEUES"],
        connection=redis_connection(),
        job_class=job_class_for(app),
        name=name,
    )
    interval = app.config["RECONCILE_INTERVAL_SECONDS"]
    timer = ReconcileTimer(app, interval) if interval and not burst else None
    if timer:
        timer.start()
    try:
        worker.work(burst=burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])
    finally:
        if timer:
            timer.stop()
