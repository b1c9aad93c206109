"""Counters of transitions, counted once each by the process whose transaction commits them:
``flowdeck_runs_total{workflow,status}`` (every run's end) and the ``crashed`` series of
``flowdeck_step_attempts_total`` (a step whose attempt the reconciler finds dead).

Neither can be counted by the worker that ran the step: a run ends without any step job (a
cancel, a rejected gate), and a crashed attempt's worker is usually dead (a lost node). So a
listener on the ``status`` attribute notes each move into a finished status, whichever code
made it: ``WorkflowRun.status`` (every change goes through the engine's ``move_run``) and
``StepRun.status`` becoming ``crashed`` (only the reconciler's ``fail_attempt`` does that; the
attempt row itself is closed by an UPDATE, which no listener sees). A move counts
when its transaction commits (a rolled-back one never happened), once per object and
transaction. A retried run that ends again counts again: each terminal transition is one.

Who counts depends on where the commit happens:
- a web request (API or console): the web process's own counter (summed across gunicorn
  workers in multiprocess mode);
- an RQ job, in the work horse (forked or persistent): a horse must not hold metrics (see
  ``webapp.metrics.worker``), so it appends what it committed to a Redis list named after its
  worker, and that worker's parent counts the list after the job. Nothing is written when the
  worker serves no metrics (``WORKER_METRICS_PORT=0``);
- anything else, a CLI command such as ``flask reconcile`` above all, is a process whose
  counter nobody scrapes: it appends to the web's list, which the next ``/metrics`` scrape of
  any web process takes and counts.
Taking a list is atomic (read and delete in one transaction), so an entry counts once
whichever process takes it. A list nobody takes (its worker gone, no scrape) expires in a day.
"""
from __future__ import annotations

import logging

from flask import current_app, has_request_context
from prometheus_client import Counter
from redis import Redis
from rq import get_current_job
from sqlalchemy import event
from sqlalchemy.orm import Session, object_session
from sqlalchemy.orm.base import NO_VALUE

from webapp.metrics.registry import runs_finished, step_attempts
from webapp.queues import redis_connection
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.runs.states import RUN_FINISHED

log = logging.getLogger(__name__)
NOTED_KEY = "flowdeck_transitions"  # session.info: {id(object): (object, the counted status it moved to)}
COUNTED_KEY = "flowdeck_transition_labels"  # session.info: [(counter, label, label)] once the commit is near
COUNTERS: dict[str, Counter] = {"runs": runs_finished, "attempts": step_attempts}
HANDOFF_TTL_SECONDS = 24 * 3600
SEPARATOR = "\t"
WEB_HANDOFF = "flowdeck:metrics:transitions:web"


def worker_handoff(worker_name: str) -> str:
    return f"flowdeck:metrics:transitions:worker:{worker_name}"


def note(target, new: str, counted: bool, old) -> None:
    """Note ``target`` if it moves into a counted status (an object created in that status, as
    seeded demo data is, made no transition). The status is kept: a crashed step with a retry
    left is queued again in the same transaction."""
    if not counted or new == old or old is NO_VALUE or old is None:
        return
    session = object_session(target)
    if session is not None:
        session.info.setdefault(NOTED_KEY, {})[id(target)] = (target, new)


def note_run(run: WorkflowRun, new: str, old, _initiator) -> None:
    note(run, new, new in RUN_FINISHED, old)


def note_step(step: StepRun, new: str, old, _initiator) -> None:
    note(step, new, new == "crashed", old)


def labels_of(session: Session, target, status: str) -> tuple[str, str, str]:
    if isinstance(target, WorkflowRun):
        return "runs", target.workflow.slug, status
    run = session.get(WorkflowRun, target.run_id)
    return "attempts", plan_for(run.version).spec(target.step_key).uses, status


def label_before_commit(session: Session) -> None:
    """Read each noted object's labels while SQL may still run (it cannot after the commit)."""
    noted = session.info.pop(NOTED_KEY, {})
    if noted:
        session.info.setdefault(COUNTED_KEY, []).extend(
            labels_of(session, target, status) for target, status in noted.values())


def count_after_commit(session: Session) -> None:
    labels = session.info.pop(COUNTED_KEY, [])
    if not labels:
        return
    job = get_current_job()
    if job is not None:
        if current_app.config["WORKER_METRICS_PORT"] and job.worker_name:
            hand_off(worker_handoff(job.worker_name), labels)
    elif has_request_context():
        for counter, *values in labels:
            COUNTERS[counter].labels(*values).inc()
    else:
        hand_off(WEB_HANDOFF, labels)


def hand_off(key: str, labels: list[tuple[str, str, str]]) -> None:
    try:
        pipeline = redis_connection().pipeline()
        pipeline.rpush(key, *(SEPARATOR.join(label) for label in labels))
        pipeline.expire(key, HANDOFF_TTL_SECONDS)
        pipeline.execute()
    except Exception:  # a metric must never fail the work that already committed
        log.warning("metrics: could not hand %s transitions to %s", len(labels), key, exc_info=True)


def forget_after_rollback(session: Session, _previous_transaction) -> None:
    session.info.pop(NOTED_KEY, None)
    session.info.pop(COUNTED_KEY, None)


def count_handed_off(redis: Redis, key: str) -> None:
    """Take the list (read and delete in one MULTI) and count its transitions in this process."""
    pipeline = redis.pipeline()
    pipeline.lrange(key, 0, -1)
    pipeline.delete(key)
    entries, _ = pipeline.execute()
    for entry in entries:
        counter, *values = entry.decode().split(SEPARATOR)
        if counter in COUNTERS and len(values) == 2:
            COUNTERS[counter].labels(*values).inc()


def listen_for_transitions() -> None:
    for target, name, handler, options in (
            (WorkflowRun.status, "set", note_run, {"active_history": True}),
            (StepRun.status, "set", note_step, {"active_history": True}),
            (Session, "before_commit", label_before_commit, {}),
            (Session, "after_commit", count_after_commit, {}),
            (Session, "after_soft_rollback", forget_after_rollback, {})):
        if not event.contains(target, name, handler):
            event.listen(target, name, handler, **options)
