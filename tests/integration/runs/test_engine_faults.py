"""Faults with real processes: a worker SIGKILLed mid-step, Redis flushed mid-run, many runs at once."""
from __future__ import annotations

from collections import Counter

from sqlalchemy import func, select

from tests.integration.runs.conftest import counted, executions, horse_pid, wait_for_run, wait_until
from webapp.costs.models import CostRecord
from webapp.events.models import Event
from webapp.runs import actions
from webapp.runs.models import StepRun
from webapp.runs.reconcile import reconcile
from webapp.runs.service import get_run


def test_a_worker_killed_mid_step_is_reconciled_as_crashed_and_the_retry_completes_the_run(
        db, workers, make_workflow, operator):
    make_workflow({"name": "fragile", "steps": [
        {"id": "think", "uses": "llm.complete", "with": {"model": "local-small", "prompt": "first thoughts"}},
        {"id": "slow", "uses": "control.sleep", "needs": ["think"], "with": {"seconds": 3},
         "retry": {"max": 1, "backoff": [0]}},
        {"id": "summary", "uses": "llm.complete", "needs": ["slow"],
         "with": {"model": "local-small", "prompt": "sum up"}},
    ]})
    workers.start(1)
    run = actions.trigger_run("fragile", {}, operator)[0]
    wait_until(lambda: get_run(run.id).step("slow").status == "running", what="slow to start")
    workers.kill(workers.processes[0], horse_pid(get_run(run.id).step("slow")))
    assert get_run(run.id).step("slow").status == "running"  # the database cannot know yet

    report = reconcile(grace_seconds=0)
    assert report.crashed == 1
    slow = get_run(run.id).step("slow")
    assert (slow.status, slow.attempt, slow.error) == ("queued", 2, "the worker running this step died")
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.type == "step.crashed")) == 1

    workers.start(1)
    run = wait_for_run(run.id)
    assert run.status == "succeeded", workers.logs()
    records = db.session.execute(select(CostRecord).where(CostRecord.run_id == run.id)).scalars().all()
    per_attempt = Counter((record.step_run_id, record.attempt) for record in records)
    assert sorted(per_attempt.values()) == [1, 1]
    assert {record.step_run_id for record in records} == {run.step("think").id, run.step("summary").id}
    assert run.cost_total == sum(record.amount for record in records)


def test_a_crashed_step_without_retries_left_stays_crashed_and_fails_the_run(db, workers, make_workflow, operator):
    make_workflow({"name": "no-second-chance", "steps": [
        {"id": "slow", "uses": "control.sleep", "with": {"seconds": 5}},
        {"id": "after", "uses": "template.render", "needs": ["slow"], "with": {"template": "x"}},
    ]})
    workers.start(1)
    run = actions.trigger_run("no-second-chance", {}, operator)[0]
    wait_until(lambda: get_run(run.id).step("slow").status == "running", what="slow to start")
    workers.kill(workers.processes[0], horse_pid(get_run(run.id).step("slow")))
    reconcile(grace_seconds=0)
    run = get_run(run.id)
    assert run.status == "failed"
    assert [(s.step_key, s.status) for s in run.steps] == [("slow", "crashed"), ("after", "skipped")]


def test_runs_complete_after_redis_is_flushed_mid_run_and_the_reconciler_runs(
        db, redis, workers, make_workflow, operator):
    make_workflow({"name": "amnesia", "steps": [
        {"id": "a", "uses": "control.sleep", "with": {"seconds": 1}},
        {"id": "b", "uses": "control.sleep", "needs": ["a"], "with": {"seconds": 0.5}},
        {"id": "c", "uses": "template.render", "needs": ["b"], "with": {"template": "done"}},
    ]})
    workers.start(2)
    runs = [actions.trigger_run("amnesia", {}, operator)[0] for _ in range(4)]
    wait_until(lambda: any(get_run(r.id).step("a").status == "running" for r in runs), what="a step to run")
    redis.flushdb()
    report = reconcile(grace_seconds=0)
    assert report.requeued >= 1
    finished = [wait_for_run(r.id, timeout=90) for r in runs]
    assert [r.status for r in finished] == ["succeeded"] * 4, workers.logs()


def test_twenty_concurrent_runs_on_two_workers_all_succeed_and_run_each_step_once(
        db, redis, workers, make_workflow, operator):
    make_workflow({"name": "crowd", "steps": [
        counted("a"), counted("b", ["a"]), counted("c", ["a"]), counted("d", ["b", "c"])]})
    workers.start(2)
    runs = [actions.trigger_run("crowd", {}, operator)[0] for _ in range(20)]
    finished = [wait_for_run(r.id, timeout=120) for r in runs]
    assert [r.status for r in finished] == ["succeeded"] * 20, workers.logs()
    counts = [executions(redis, f"{r.id}-{key}") for r in finished for key in "abcd"]
    assert counts == [1] * 80
    assert set(db.session.execute(select(StepRun.attempt)).scalars()) == {1}
    started = db.session.scalar(select(func.count()).select_from(Event).where(Event.type == "step.running"))
    assert started == 80


def test_a_retry_left_waiting_in_the_scheduler_is_enqueued_by_the_reconciler(db, workers, make_workflow, operator):
    make_workflow({"name": "patient", "steps": [
        {"id": "flaky", "uses": "control.fail", "with": {"times": 1}, "retry": {"max": 1, "backoff": [3600]}}]})
    workers.start(1)
    run = actions.trigger_run("patient", {}, operator)[0]
    wait_until(lambda: get_run(run.id).step("flaky").status == "retrying", what="the retry to be scheduled")
    assert reconcile(grace_seconds=0).released == 0  # an hour early: left alone
    assert reconcile(grace_seconds=0, overdue_seconds=-7200).released == 1  # as if two hours had passed
    run = wait_for_run(run.id)
    assert run.status == "succeeded" and run.step("flaky").attempt == 2, workers.logs()
