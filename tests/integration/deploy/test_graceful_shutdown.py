"""SIGTERM, as Kubernetes and process managers send it: gunicorn finishes the request in flight
and a worker finishes the step it is running; both exit 0."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import threading
import time

from tests.conftest import BIN, ROOT
from tests.integration.metrics.conftest import free_port
from tests.integration.metrics.test_gunicorn_multiprocess import wait_live
from tests.integration.runs.conftest import wait_for_run, wait_until
from webapp.runs import actions
from webapp.runs.service import get_run


def test_gunicorn_finishes_the_request_in_flight_on_sigterm_and_exits_0(db, test_env, tmp_path):
    port = free_port()
    marker = tmp_path / "in-flight"
    env = {**os.environ, **test_env, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "prometheus"),
           "SLOW_REQUEST_MARKER": str(marker)}
    with open(tmp_path / "gunicorn.log", "w") as log:
        process = subprocess.Popen(
            [str(BIN / "gunicorn"), "-c", "python:webapp.metrics.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "tests.integration.deploy.slow_wsgi:app"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            wait_live(port, process)
            answers = []

            def slow_request():
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", "/_test/slow")
                response = connection.getresponse()
                answers.append((response.status, response.read()))

            request = threading.Thread(target=slow_request)
            request.start()
            deadline = time.monotonic() + 20
            while not marker.exists() and time.monotonic() < deadline:
                time.sleep(0.05)
            assert marker.exists(), "the slow request never reached its view"
            process.send_signal(signal.SIGTERM)
            request.join(timeout=30)
            status = process.wait(timeout=40)
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
    assert answers == [(200, b"finished\n")]
    assert status == 0, (tmp_path / "gunicorn.log").read_text()


def test_a_worker_told_to_stop_mid_step_finishes_the_step_and_exits_0(db, redis, workers, make_workflow, operator):
    make_workflow({"name": "stopping", "steps": [
        {"id": "nap", "uses": "control.sleep", "with": {"seconds": 3}},
    ]})
    workers.start(1)
    run = actions.trigger_run("stopping", {}, operator)[0]
    wait_until(lambda: get_run(run.id).step("nap").status == "running", what="the step to start")
    worker = workers.processes[0]
    worker.send_signal(signal.SIGTERM)  # to the worker alone, as Kubernetes signals PID 1
    assert worker.wait(timeout=60) == 0, workers.logs()
    run = wait_for_run(run.id, timeout=10)
    assert run.status == "succeeded" and run.step("nap").attempt == 1, workers.logs()
