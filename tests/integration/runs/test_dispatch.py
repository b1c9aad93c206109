"""Step jobs noted in a transaction reach Redis after the commit, all in one pipeline."""
from __future__ import annotations

from redis.client import Pipeline
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import text

from webapp.queues import get_queue, redis_connection
from webapp.runs.dispatch import JOB_FUNCTION, JOB_TIMEOUT_MARGIN, PENDING_KEY, StepJob


def note(db, *jobs: StepJob) -> None:
    db.session.info.setdefault(PENDING_KEY, []).extend(jobs)


def test_every_step_job_of_a_commit_goes_to_redis_in_one_pipeline(db, redis, monkeypatch):
    client = redis_connection()
    get_queue("alpha").get_redis_server_version()  # RQ caches this on the client; not part of an enqueue
    direct, pipelines = [], []
    original_command, original_execute = client.execute_command, Pipeline.execute
    monkeypatch.setattr(client, "execute_command", lambda *args, **kw: direct.append(args[0]) or original_command(
        *args, **kw))
    monkeypatch.setattr(Pipeline, "execute", lambda self, *a, **kw: pipelines.append(len(self)) or original_execute(
        self, *a, **kw))
    note(db, StepJob(1, 11, "step-1-1", "alpha", 0.0, 10), StepJob(2, 12, "step-2-1", "beta", 0.0, 20),
         StepJob(3, 13, "step-3-1", "alpha", 0.0, 30), StepJob(4, 14, "step-4-2", "alpha", 60.0, 40))
    db.session.commit()
    monkeypatch.undo()

    # RQ 2.12's ScheduledJobRegistry.schedule ignores the pipeline it is given: the delayed job's
    # ZADD goes alone (its score is in the future, so the scheduler cannot act on it early)
    assert len(pipelines) == 1 and direct == ["ZADD"]
    assert get_queue("alpha").job_ids == ["step-1-1", "step-3-1"]
    assert get_queue("beta").job_ids == ["step-2-1"]
    assert ScheduledJobRegistry(queue=get_queue("alpha")).get_job_ids() == ["step-4-2"]
    job = Job.fetch("step-2-1", connection=redis)
    assert (job.func_name, job.args, job.timeout) == (JOB_FUNCTION, (2, 12), 20 + JOB_TIMEOUT_MARGIN)
    assert Job.fetch("step-4-2", connection=redis).get_status() == "scheduled"


def test_a_rolled_back_transaction_enqueues_nothing(db, redis):
    db.session.execute(text("SELECT 1"))  # a transaction is open
    note(db, StepJob(1, 11, "step-1-1", "alpha", 0.0, 10))
    db.session.rollback()
    db.session.commit()
    assert get_queue("alpha").job_ids == []
