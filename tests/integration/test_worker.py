"""A job enqueued from the app runs in a real `flask worker` process against real Redis."""
import os
import subprocess
import time

from tests.conftest import BIN, ROOT
from webapp.queues import enqueue


def test_job_runs_in_a_burst_worker_process_and_sees_the_app_config(app, db, redis, flask_cli):
    job = enqueue("jobs.maintenance.ping", "hello")
    assert job.timeout == app.config["JOB_TIMEOUT"] and job.failure_ttl == app.config["JOB_FAILURE_TTL"]
    result = flask_cli("worker", "--burst")
    assert result.returncode == 0, result.stderr
    answer = job.latest_result().return_value if job.get_status(refresh=True) == "finished" else None
    assert answer is not None, job.get_status()
    assert answer["note"] == "hello"
    assert answer["environment"] == "test"
    assert answer["database"] == "postgresql+psycopg"
    assert answer["pid"] != os.getpid()
    assert answer["job_id"] == job.id
    job_lines = [line for line in result.stderr.splitlines() if "answered by worker" in line or "Job OK" in line]
    assert len(job_lines) == 2 and all(f"job={job.id}" in line for line in job_lines), result.stderr


def test_jobs_ping_gets_an_answer_from_a_running_worker(app, db, redis, test_env, flask_cli):
    worker = subprocess.Popen([str(BIN / "flask"), "worker"], cwd=ROOT, env={**os.environ, **test_env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        result = flask_cli("jobs", "ping", "--timeout", "30")
        assert result.returncode == 0, result.stderr
        assert '"environment": "test"' in result.stdout
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_jobs_ping_says_so_when_no_worker_answers(app, db, redis, flask_cli):
    started = time.monotonic()
    result = flask_cli("jobs", "ping", "--timeout", "1")
    assert result.returncode != 0
    assert "no worker answered" in result.stderr
    assert time.monotonic() - started < 30
