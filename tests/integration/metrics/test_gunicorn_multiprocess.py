"""Under a real gunicorn with two workers, /metrics sums the counters of both processes."""
from __future__ import annotations

import http.client
import os
import signal
import subprocess
import time

from tests.conftest import BIN, ROOT
from tests.integration.metrics.conftest import TOKEN, fetch, free_port, parse, value

REQUESTS = 40


def start_gunicorn(env: dict[str, str], port: int, log) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:webapp.metrics.gunicorn_conf", "--bind", f"127.0.0.1:{port}",
         "--workers", "2", "wsgi:app"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def wait_live(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "gunicorn exited"
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/api/v3/health/live")
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("gunicorn did not answer")


def worker_pids(master: int) -> list[int]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        children = [int(pid) for pid in open(f"/proc/{master}/task/{master}/children").read().split()]
        if len(children) == 2:
            return sorted(children)
        time.sleep(0.1)
    raise AssertionError("gunicorn did not start two workers")


def get_me(port: int, times: int) -> None:
    for _ in range(times):  # a new connection each time: whichever worker is running accepts it
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/api/v3/auth/me")
        response = connection.getresponse()
        response.read()
        connection.close()
        assert response.status == 401


def served_by(metrics_dir, pid: int) -> float:
    from prometheus_client.mmap_dict import MmapedDict

    values = MmapedDict.read_all_values_from_file(str(metrics_dir / f"counter_{pid}.db"))
    return sum(value for key, value, *_ in values
               if "flowdeck_http_requests_total" in key and "/api/v3/auth/me" in key)


def test_two_gunicorn_workers_sum_into_one_scrape_and_a_restart_starts_from_zero(db, redis, test_env, tmp_path):
    metrics_dir = tmp_path / "prometheus"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"left over from a previous start")
    env = {**os.environ, **test_env, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir), "METRICS_TOKEN": TOKEN}
    port = free_port()
    with open(tmp_path / "gunicorn.log", "w") as log:
        process = start_gunicorn(env, port, log)
        try:
            wait_live(port, process)
            first, second = worker_pids(process.pid)
            # Pause one worker at a time, so each of the two serves a known share.
            os.kill(second, signal.SIGSTOP)
            get_me(port, 15)
            os.kill(second, signal.SIGCONT)
            os.kill(first, signal.SIGSTOP)
            get_me(port, 25)
            os.kill(first, signal.SIGCONT)
            samples = parse(fetch(f"http://127.0.0.1:{port}/metrics"))
            shares = {pid: served_by(metrics_dir, pid) for pid in (first, second)}
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            exit_status = process.wait(timeout=30)
    assert exit_status == 0, (tmp_path / "gunicorn.log").read_text()
    assert not (metrics_dir / "counter_999999.db").exists()  # emptied at start
    assert shares == {first: 15, second: 25}
    assert value(samples, "flowdeck_http_requests_total", route="/api/v3/auth/me", method="GET", status="401") == 40
