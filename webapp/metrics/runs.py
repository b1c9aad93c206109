"""``flowdeck_runs_total{workflow,status}``: every run's terminal transition, counted once, by the
process whose transaction committed it.

A run's status only changes through the ``WorkflowRun.status`` attribute (the engine's
``move_run``), so a listener on that attribute sees each move into a finished status, whichever
code made it: a step job, the reconciler, a cancel or a rejected gate from the API or the
console, a CLI command. The move counts when its transaction commits (a rolled-back one never
happened), once per run and transaction. A retried run that ends again counts again: each
terminal transition is one.

Who counts depends on where the commit happens:
- a web request (API or console): the web process's own counter (summed across gunicorn
  workers in multiprocess mode);
- an RQ job, in the work horse (forked or persistent): a horse must not hold metrics (see
  ``webapp.metrics.worker``), so it appends what it committed to a Redis list named after its
  worker, and that worker's parent adds the list to its counter after the job. Nothing is
  written when the worker serves no metrics (``WORKER_METRICS_PORT=0``);
- anything else, a CLI command such as ``flask reconcile`` above all, is a process whose
  counter nobody scrapes: it appends to the web's list, which the next ``/metrics`` scrape of
  any web process takes and counts.
Taking a list is atomic (read and delete in one transaction), so an entry counts once
whichever process takes it. A list nobody takes (its worker gone, no scrape) expires in a day.
"""
from __future__ import annotations

import logging

from flask import current_app, has_request_context
from redis import Redis
from rq import get_current_job
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.base import NO_VALUE

from webapp.metrics.registry import runs_finished
from webapp.queues import redis_connection
from webapp.runs.models import WorkflowRun
from webapp.runs.states import RUN_FINISHED

log = logging.getLogger(__name__)
ENDED_KEY = "flowdeck_runs_ended"  # session.info: {run id: run} moved to a finished status
COUNTED_KEY = "flowdeck_runs_ended_labels"  # session.info: [(workflow slug, status)] once the commit is near
HANDOFF_TTL_SECONDS = 24 * 3600
SEPARATOR = "\t"
WEB_HANDOFF = "flowdeck:metrics:runs_ended:web"


def worker_handoff(worker_name: str) -> str:
    return f"flowdeck:metrics:runs_ended:worker:{worker_name}"


def note_status(run: WorkflowRun, new: str, old, _initiator) -> None:
    """A run's status is being set: note it if this ends the run (a run created already finished,
    as seeded demo data is, made no transition)."""
    if new not in RUN_FINISHED or old is NO_VALUE or old is None or old == new:
        return
    session = object_session(run)
    if session is not None:
        session.info.setdefault(ENDED_KEY, {})[id(run)] = run


def label_before_commit(session: Session) -> None:
    """Read each ended run's workflow while SQL may still run (it cannot after the commit)."""
    ended = session.info.pop(ENDED_KEY, {})
    if ended:
        session.info.setdefault(COUNTED_KEY, []).extend(
            (run.workflow.slug, run.status) for run in ended.values() if run.status in RUN_FINISHED)


def count_after_commit(session: Session) -> None:
    labels = session.info.pop(COUNTED_KEY, [])
    if not labels:
        return
    job = get_current_job()
    if job is not None:
        if current_app.config["WORKER_METRICS_PORT"] and job.worker_name:
            hand_off(worker_handoff(job.worker_name), labels)
    elif has_request_context():
        for slug, status in labels:
            runs_finished.labels(slug, status).inc()
    else:
        hand_off(WEB_HANDOFF, labels)


def hand_off(key: str, labels: list[tuple[str, str]]) -> None:
    try:
        pipeline = redis_connection().pipeline()
        pipeline.rpush(key, *(slug + SEPARATOR + status for slug, status in labels))
        pipeline.expire(key, HANDOFF_TTL_SECONDS)
        pipeline.execute()
    except Exception:  # a metric must never fail the work that already committed
        log.warning("metrics: could not hand %s run ends to %s", len(labels), key, exc_info=True)


def forget_after_rollback(session: Session, _previous_transaction) -> None:
    session.info.pop(ENDED_KEY, None)
    session.info.pop(COUNTED_KEY, None)


def count_handed_off(redis: Redis, key: str) -> None:
    """Take the list (read and delete in one MULTI) and count its run ends in this process."""
    pipeline = redis.pipeline()
    pipeline.lrange(key, 0, -1)
    pipeline.delete(key)
    entries, _ = pipeline.execute()
    for entry in entries:
        slug, _, status = entry.decode().partition(SEPARATOR)
        runs_finished.labels(slug, status).inc()


def listen_for_run_ends() -> None:
    for target, name, handler, options in (
            (WorkflowRun.status, "set", note_status, {"active_history": True}),
            (Session, "before_commit", label_before_commit, {}),
            (Session, "after_commit", count_after_commit, {}),
            (Session, "after_soft_rollback", forget_after_rollback, {})):
        if not event.contains(target, name, handler):
            event.listen(target, name, handler, **options)
