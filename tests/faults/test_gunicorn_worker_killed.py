"""SIGKILL of a gunicorn worker under load: the master forks a new one and the server keeps answering."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.faults.checks import report
from tests.faults.load import Load

LOAD_SECONDS_BEFORE, LOAD_SECONDS_AFTER = 2, 5
THREADS = 4  # at most this many requests were in flight on the killed worker


def children(pid: int) -> list[int]:
    return [int(child) for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]


@pytest.mark.timeout(120)
def test_killing_a_gunicorn_worker_under_load_leaves_the_server_answering(web_server, api_headers):
    headers, _ = api_headers("viewer")
    server, base = web_server
    before = children(server.pid)
    assert len(before) == 2
    with Load(base, headers, threads=THREADS) as load:
        time.sleep(LOAD_SECONDS_BEFORE)
        killed_at = time.monotonic()
        os.kill(before[0], signal.SIGKILL)
        time.sleep(LOAD_SECONDS_AFTER)
    after = [(at, status) for at, status in load.samples if at > killed_at]
    print(f"\n[faults] gunicorn worker SIGKILL: statuses {dict(load.statuses)}")
    failed = [at for at, status in after if status != 200]
    if failed:
        report("gunicorn worker SIGKILL: requests failed until", max(failed) - killed_at)
    assert len(failed) <= THREADS, load.statuses  # only requests the dead worker held
    assert sum(status == 200 for _, status in after) >= 20
    assert set(load.statuses) <= {200, 0}, load.statuses
    replaced = children(server.pid)
    assert len(replaced) == 2 and before[0] not in replaced
