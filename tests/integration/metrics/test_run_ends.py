"""``flowdeck_runs_total`` counts every run's end exactly once, wherever it commits: the paths
that end a run without a step job (cancels, a rejected gate, a held run cancelled), the
reconciler as a worker's job and as ``flask reconcile``, and never a transition that rolled
back or happened in another process. A step the reconciler marks crashed (its worker was
SIGKILLed, so nobody else can) counts in ``flowdeck_step_attempts_total{status="crashed"}`` the
same way."""
from __future__ import annotations

from tests.integration.metrics.conftest import fetch, free_port, parse, value
from tests.integration.runs.conftest import horse_pid, wait_for_run, wait_until
from webapp.extensions import db
from webapp.queues import enqueue
from webapp.runs import actions
from webapp.runs.engine import lock_run, move_run
from webapp.runs.service import get_run

RUNS = "flowdeck_runs_total"
ATTEMPTS = "flowdeck_step_attempts_total"
SLEEPY = [{"id": "nap", "uses": "control.sleep", "with": {"seconds": 5}}]


def worker_metrics(port: int):
    return parse(fetch(f"http://127.0.0.1:{port}/metrics", token=None))


def moved(before, after, workflow: str, status: str) -> float:
    return value(after, RUNS, workflow=workflow, status=status) - value(before, RUNS, workflow=workflow, status=status)


def test_runs_cancelled_from_the_api_while_queued_or_running_count_once_each(
        client, scrape, api_headers, make_workflow, operator, redis):
    make_workflow({"name": "one-at-a-time", "max_concurrent_runs": 1, "steps": SLEEPY})
    headers, _ = api_headers("operator")
    first, second = (client.post("/api/v3/workflows/one-at-a-time/runs", headers=headers).json["run"]
                     for _ in range(2))
    assert (first["status"], second["status"]) == ("running", "queued")
    before = scrape()
    assert client.post(f"/api/v3/runs/{second['id']}/cancel", headers=headers).status_code == 200
    assert moved(before, scrape(), "one-at-a-time", "cancelled") == 1
    assert client.post(f"/api/v3/runs/{first['id']}/cancel", headers=headers).status_code == 200
    after = scrape()
    assert moved(before, after, "one-at-a-time", "cancelled") == 2
    assert client.post(f"/api/v3/runs/{first['id']}/cancel", headers=headers).status_code == 409
    assert moved(after, scrape(), "one-at-a-time", "cancelled") == 0  # a refused cancel ends nothing


def test_a_held_run_cancelled_counts_as_cancelled(client, scrape, api_headers, make_workflow, operator, redis):
    make_workflow({"name": "held", "steps": SLEEPY})
    headers, _ = api_headers("operator")
    run = client.post("/api/v3/workflows/held/runs", headers=headers).json["run"]
    paused = client.post(f"/api/v3/runs/{run['id']}/pause", headers=headers, json={"reason": "look first"})
    assert paused.json["run"]["status"] == "paused"
    before = scrape()
    assert client.post(f"/api/v3/runs/{run['id']}/cancel", headers=headers).json["run"]["status"] == "cancelled"
    assert moved(before, scrape(), "held", "cancelled") == 1


def test_a_gate_rejected_from_the_api_counts_the_run_as_failed(client, scrape, api_headers, make_workflow,
                                                               operator, redis):
    make_workflow({"name": "gated", "steps": [{"id": "ok", "uses": "gate.approval", "with": {"prompt": "Go?"}}]})
    headers, _ = api_headers("operator")
    run = client.post("/api/v3/workflows/gated/runs", headers=headers).json["run"]
    assert run["status"] == "paused"
    before = scrape()
    rejected = client.post(f"/api/v3/runs/{run['id']}/steps/ok/approve", headers=headers, json={"approved": False})
    assert rejected.json["run"]["status"] == "failed"
    after = scrape()
    assert moved(before, after, "gated", "failed") == 1
    assert moved(before, after, "gated", "succeeded") == 0


def test_an_end_that_rolls_back_is_never_counted(scrape, make_workflow, operator, redis):
    make_workflow({"name": "undone", "steps": SLEEPY})
    run = actions.trigger_run("undone", {}, operator)[0]
    before = scrape()
    move_run(lock_run(run.id), "cancelled")
    db.session.rollback()
    assert get_run(run.id).status == "running"
    assert moved(before, scrape(), "undone", "cancelled") == 0


def orphaned_run(workers, make_workflow, operator, name: str, steps=SLEEPY) -> int:
    """A run whose only step is ``running`` on a worker that was SIGKILLed: the reconciler crashes it."""
    make_workflow({"name": name, "steps": steps})
    workers.start(1)
    run = actions.trigger_run(name, {}, operator)[0]
    wait_until(lambda: get_run(run.id).step("nap").status == "running", what="nap to start")
    workers.kill(workers.processes[-1], horse_pid(get_run(run.id).step("nap")))
    return run.id


def test_a_run_failed_by_the_reconciler_job_is_counted_by_that_worker_only(
        db, redis, scrape, workers, make_workflow, operator):
    run_id = orphaned_run(workers, make_workflow, operator, "orphaned")
    port = free_port()
    workers.env["WORKER_METRICS_PORT"] = str(port)
    workers.start(1)
    before = scrape()
    enqueue("jobs.steps.reconcile", queue="default")
    assert wait_for_run(run_id).status == "failed", workers.logs()
    wait_until(lambda: value(worker_metrics(port), RUNS, workflow="orphaned", status="failed"),
               what="the worker to count the run")
    worker, web = worker_metrics(port), scrape()
    assert value(worker, RUNS, workflow="orphaned", status="failed") == 1
    assert value(worker, ATTEMPTS, kind="control.sleep", status="crashed") == 1
    assert moved(before, web, "orphaned", "failed") == 0  # this process did not end it
    assert value(web, ATTEMPTS, kind="control.sleep", status="crashed") == value(
        before, ATTEMPTS, kind="control.sleep", status="crashed")


def test_a_run_failed_by_flask_reconcile_is_counted_once_by_the_next_web_scrape(
        db, redis, scrape, workers, make_workflow, operator, flask_cli):
    run_id = orphaned_run(workers, make_workflow, operator, "reconciled")
    before = scrape()
    result = flask_cli("reconcile", "--grace", "0")
    assert result.returncode == 0, result.stderr
    db.session.expire_all()
    assert get_run(run_id).status == "failed"
    after = scrape()
    assert moved(before, after, "reconciled", "failed") == 1
    assert value(after, ATTEMPTS, kind="control.sleep", status="crashed") - value(
        before, ATTEMPTS, kind="control.sleep", status="crashed") == 1
    assert moved(after, scrape(), "reconciled", "failed") == 0  # taken once, not again


def test_a_crashed_step_with_a_retry_left_counts_as_crashed_though_it_is_queued_again(
        db, redis, scrape, workers, make_workflow, operator, flask_cli):
    retried = [{**SLEEPY[0], "retry": {"max": 1, "backoff": [0]}}]
    run_id = orphaned_run(workers, make_workflow, operator, "retried", retried)
    before = scrape()
    assert flask_cli("reconcile", "--grace", "0").returncode == 0
    db.session.expire_all()
    assert get_run(run_id).step("nap").status == "queued"
    after = scrape()
    assert value(after, ATTEMPTS, kind="control.sleep", status="crashed") - value(
        before, ATTEMPTS, kind="control.sleep", status="crashed") == 1
    assert moved(before, after, "retried", "failed") == 0


def test_a_run_cancelled_while_its_step_runs_is_counted_by_the_web_and_not_again_by_the_worker(
        db, redis, client, scrape, api_headers, workers, make_workflow, operator):
    make_workflow({"name": "stopped", "steps": SLEEPY})
    port = free_port()
    workers.env["WORKER_METRICS_PORT"] = str(port)
    workers.start(1)
    headers, _ = api_headers("operator")
    run = client.post("/api/v3/workflows/stopped/runs", headers=headers).json["run"]
    wait_until(lambda: get_run(run["id"]).step("nap").status == "running", what="nap to start")
    before = scrape()
    assert client.post(f"/api/v3/runs/{run['id']}/cancel", headers=headers).status_code == 200
    wait_until(lambda: get_run(run["id"]).step("nap").status == "cancelled", what="the step to stop")
    # The parent records the stopped attempt after reading what its job ended: once the attempt
    # shows, the worker has had its chance to (wrongly) count the run.
    wait_until(lambda: value(worker_metrics(port), ATTEMPTS, kind="control.sleep",
                             status="cancelled"), what="the worker to record the stopped attempt")
    assert moved(before, scrape(), "stopped", "cancelled") == 1
    assert value(worker_metrics(port), RUNS, workflow="stopped", status="cancelled") == 0
