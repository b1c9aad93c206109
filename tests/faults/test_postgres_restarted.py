"""PostgreSQL restarted under load (runs triggered and listed through gunicorn, 2 workers)."""
from __future__ import annotations

import time

import pytest

from tests.faults.checks import assert_intact, chain, report, wait_for_runs
from tests.faults.load import Load

LOAD_SECONDS_BEFORE, LOAD_SECONDS_AFTER = 3, 6
MAX_503 = 100  # 4 threads at most 10 requests/s each, through a restart of about 2.5 s
AFTER_RESTART = 2  # seconds after the cluster answers in which a 503 may still be in flight
RUNS_BOUND = 90


@pytest.mark.timeout(200)
def test_a_postgres_restart_under_load_fails_no_run_and_answers_503_never_500(
        db, postgres_cluster, workers, web_server, make_workflow, api_headers, executions):
    make_workflow(chain("through-restart", 0.5, retry={"max": 2, "backoff": [0]}))
    workers.start(2)
    headers, _ = api_headers("operator")
    _, base = web_server
    db.session.remove()
    db.engine.dispose()  # this process's own connections would die with the server
    with Load(base, headers, workflow="through-restart") as load:
        time.sleep(LOAD_SECONDS_BEFORE)
        restarted = time.monotonic()
        postgres_cluster.ctl("restart")
        postgres_cluster.wait_until_up()
        back = time.monotonic()
        time.sleep(LOAD_SECONDS_AFTER)
    report("PostgreSQL restart: the cluster was down for", back - restarted)
    first_ok = min((at for at, status in load.samples if at >= back and status < 400), default=None)
    assert first_ok is not None, load.statuses
    report("PostgreSQL restart: the web answered 2xx again after the cluster returned in", max(0.0, first_ok - back))
    print(f"[faults] PostgreSQL restart: statuses {dict(load.statuses)}")
    assert 500 not in load.statuses and 0 not in load.statuses, load.statuses
    assert load.statuses[503] <= MAX_503, load.statuses
    assert all(restarted <= at <= back + AFTER_RESTART for at, status in load.samples if status == 503)
    assert set(load.statuses) <= {200, 202, 503}, load.statuses
    assert len(load.triggered) >= 8
    finished = wait_for_runs(load.triggered, RUNS_BOUND, workers.logs)
    report(f"PostgreSQL restart: all {len(finished)} runs finished after the cluster returned in",
           time.monotonic() - back)
    assert_intact(finished, executions())
