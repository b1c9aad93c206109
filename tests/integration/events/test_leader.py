"""EVENTS_DISPATCH_IN_WORKER: workers run the dispatcher, one at a time under the lease."""
from __future__ import annotations

import os
import signal
import socket
import subprocess

from sqlalchemy import select

from tests.integration.events.conftest import AMQP_URL, unpublished
from tests.integration.runs.conftest import Workers, wait_until
from webapp.leases import Lease


def descendants(pid: int) -> list[int]:
    found = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    return [int(child) for child in found] + [grand for child in found for grand in descendants(int(child))]


def lease(db) -> tuple[str, int]:
    db.session.expire_all()
    row = db.session.scalar(select(Lease).where(Lease.name == "event-dispatcher"))
    return row.holder, row.epoch


def test_one_worker_leads_the_dispatcher_and_another_takes_over_when_it_dies(
        app, db, redis, test_env, tmp_path, consumer, add_events):
    listening = consumer("run.test")
    env = {**os.environ, **test_env, "EVENTS_DISPATCH_IN_WORKER": "true", "EVENTS_POLL_SECONDS": "1",
           "AMQP_URL": AMQP_URL}
    workers = Workers(env, tmp_path)
    try:
        workers.start(2)
        first = add_events(20, subjects=4)
        wait_until(lambda: unpublished() == 0, 60, "the first events to be published")
        holder, epoch = lease(db)
        pids = {f"{socket.gethostname()}:{process.pid}": process for process in workers.processes}
        assert holder in pids
        leader = pids[holder]
        doomed = [leader.pid, *descendants(leader.pid)]
        for pid in doomed:
            os.kill(pid, signal.SIGKILL)
        leader.wait(timeout=20)
        second = add_events(20, subjects=4)
        wait_until(lambda: unpublished() == 0, 60, "the survivor to take over and publish")
        new_holder, new_epoch = lease(db)
        assert new_holder != holder and new_holder in pids and new_epoch == epoch + 1
    finally:
        workers.stop()
    messages = listening.wait_for(40)
    assert {message["id"] for message in messages} == {str(event_id) for event_id in first + second}
