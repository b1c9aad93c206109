"""Worker modes with real ``flask worker`` processes: the persistent horse keeps the guarantees of
the forking worker (timeouts, cancel, crash recovery), and steps run on the worker of their queue."""
from __future__ import annotations

import os
import signal

import pytest
from rq.job import Job

from tests.integration.runs.conftest import horse_pid, wait_for_run, wait_until
from webapp.runs import actions
from webapp.runs.reconcile import pid_alive, reconcile
from webapp.runs.service import get_run

PERSISTENT = ("--mode", "persistent")


def rq_job(redis, job_id: str) -> Job:
    return Job.fetch(job_id, connection=redis)


def quick(step_id: str, needs: list[str] | None = None, **extra) -> dict:
    return {"id": step_id, "uses": "template.render", "needs": needs or [], "with": {"template": step_id}, **extra}


def run_to_end(workflow: str, operator):
    return wait_for_run(actions.trigger_run(workflow, {}, operator)[0].id)


def test_a_step_past_its_timeout_is_stopped_and_fails_as_timed_out_and_the_horse_lives_on(
        db, workers, make_workflow, operator):
    make_workflow({"name": "too-slow", "steps": [
        {"id": "slow", "uses": "control.sleep", "with": {"seconds": 60}, "timeout": 1},
        quick("after", ["slow"])]})
    make_workflow({"name": "next", "steps": [quick("a")]})
    workers.start(1, PERSISTENT)
    run = run_to_end("too-slow", operator)
    slow = run.step("slow")
    assert (run.status, slow.status, slow.error) == ("failed", "failed", "timed out after 1s"), workers.logs()
    assert (slow.finished_at - slow.started_at).total_seconds() < 30
    assert run.step("after").status == "skipped"
    later = run_to_end("next", operator)
    assert later.status == "succeeded" and later.step("a").worker == slow.worker  # same horse, no respawn


def test_cancel_stops_a_running_sleep_in_the_persistent_horse(db, redis, workers, make_workflow, operator):
    make_workflow({"name": "long-nap", "steps": [{"id": "nap", "uses": "control.sleep", "with": {"seconds": 120}}]})
    make_workflow({"name": "next", "steps": [quick("a")]})
    workers.start(1, PERSISTENT)
    run = actions.trigger_run("long-nap", {}, operator)[0]
    nap = wait_until(lambda: (step := get_run(run.id).step("nap")).status == "running" and step, what="nap to run")
    actions.cancel(run.id, operator)
    wait_until(lambda: rq_job(redis, nap.rq_job_id).get_status(refresh=True) in ("failed", "stopped", "finished"),
               timeout=30, what="the nap's job to end")
    run = get_run(run.id)
    assert (run.status, run.step("nap").status) == ("cancelled", "cancelled")
    later = run_to_end("next", operator)  # the worker took the next job (with a new horse if it killed one)
    assert later.status == "succeeded", workers.logs()
    assert workers.processes[0].poll() is None


def test_a_horse_killed_with_sigkill_is_replaced_and_its_step_is_reconciled_as_crashed_and_retried(
        db, redis, workers, make_workflow, operator):
    make_workflow({"name": "shot", "steps": [
        {"id": "slow", "uses": "control.sleep", "with": {"seconds": 3}, "retry": {"max": 1, "backoff": [0]}},
        quick("after", ["slow"])]})
    workers.start(1, PERSISTENT)
    run = actions.trigger_run("shot", {}, operator)[0]
    slow = wait_until(lambda: (step := get_run(run.id).step("slow")).status == "running" and step, what="slow to run")
    horse = horse_pid(slow)
    assert horse != workers.processes[0].pid
    os.kill(horse, signal.SIGKILL)
    wait_until(lambda: rq_job(redis, slow.rq_job_id).get_status(refresh=True) == "failed", timeout=30,
               what="the worker to notice its horse died")
    assert not pid_alive(horse)

    assert reconcile(grace_seconds=0).crashed == 1
    slow = get_run(run.id).step("slow")
    assert (slow.status, slow.attempt, slow.error) == ("queued", 2, "the worker running this step died")
    run = wait_for_run(run.id)
    assert run.status == "succeeded", workers.logs()
    assert horse_pid(run.step("slow")) not in (horse, workers.processes[0].pid)  # a new horse ran the retry
    assert workers.processes[0].poll() is None  # the worker itself never went down


@pytest.mark.parametrize(("mode", "horses"), [("persistent", 1), ("fork", 3)])
def test_steps_share_one_long_lived_horse_only_in_persistent_mode(db, workers, make_workflow, operator, mode, horses):
    make_workflow({"name": "relay", "steps": [quick("a"), quick("b", ["a"]), quick("c", ["b"])]})
    workers.start(1, ("--mode", mode))
    run = run_to_end("relay", operator)
    assert run.status == "succeeded", workers.logs()
    assert len({step.worker for step in run.steps}) == horses


def test_each_step_runs_on_a_worker_listening_on_its_queue(db, redis, workers, make_workflow, operator):
    make_workflow({"name": "routed", "queue": "alpha", "steps": [
        quick("first"), quick("second", ["first"], queue="beta"), quick("third", ["second"]),
        quick("fourth", ["second"], queue="beta")]})
    alpha, = workers.start(1, ("alpha",))
    beta, = workers.start(1, ("beta",))
    run = run_to_end("routed", operator)
    assert run.status == "succeeded", workers.logs()
    placed = {step.step_key: (rq_job(redis, step.rq_job_id).origin, rq_job(redis, step.rq_job_id).worker_name)
              for step in run.steps}
    assert placed == {"first": ("alpha", alpha), "second": ("beta", beta),
                      "third": ("alpha", alpha), "fourth": ("beta", beta)}
    assert run.step("first").worker != run.step("second").worker


def test_a_job_that_raises_retires_its_horse_so_its_pid_never_outlives_it(app, db, redis, workers):
    """The reconciler reads a dead ``host:pid`` as "crashed"; a horse that failed a job must not go on."""
    from webapp.queues import enqueue

    workers.start(1, PERSISTENT)

    def answer(job):
        wait_until(lambda: job.get_status(refresh=True) in ("finished", "failed"), timeout=30, what=f"job {job.id}")
        return job

    first = answer(enqueue("jobs.maintenance.ping", "one")).return_value()["pid"]
    assert answer(enqueue("jobs.maintenance.ping", unexpected=True)).get_status() == "failed"
    second = answer(enqueue("jobs.maintenance.ping", "two")).return_value()["pid"]
    third = answer(enqueue("jobs.maintenance.ping", "three")).return_value()["pid"]
    assert first != second == third
    assert not pid_alive(first)
