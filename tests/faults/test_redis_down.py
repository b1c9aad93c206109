"""Redis stopped for 30 s mid-run (and started again with its snapshot): workers ride it out."""
from __future__ import annotations

import threading
import time

import pytest
import requests
from sqlalchemy import func, select

from tests.faults.checks import assert_intact, llm_step, report, wait_for_runs
from tests.faults.plugin import recorded
from tests.integration.runs.conftest import wait_until
from webapp.clock import utcnow
from webapp.runs import actions
from webapp.runs.models import StepAttempt, StepRun

OUTAGE_SECONDS = 30
CONTINUE_BOUND = 5  # a step starts this soon after Redis returns
RUNS_BOUND = 90


class Probes(threading.Thread):
    """Polls /live and /ready every 0.5 s, keeping (monotonic time, path, status; 0 = no answer)."""

    def __init__(self, base: str) -> None:
        super().__init__(daemon=True)
        self.base = base
        self.samples: list[tuple[float, str, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        session = requests.Session()
        for _ in range(int(4 * (OUTAGE_SECONDS + RUNS_BOUND))):
            if self.stopped.wait(0.5):
                return
            for path in ("live", "ready"):
                try:
                    status = session.get(f"{self.base}/api/v3/health/{path}", timeout=5).status_code
                except requests.RequestException:
                    status = 0
                self.samples.append((time.monotonic(), path, status))

    def statuses(self, path: str, since: float = 0, until: float = float("inf")) -> list[int]:
        return [status for at, name, status in self.samples if name == path and since <= at <= until]


@pytest.mark.timeout(200)
def test_workers_survive_redis_down_for_30_s_and_runs_continue_within_5_s(
        db, redis_server, workers, web_server, make_workflow, operator, executions):
    make_workflow({"name": "through-outage", "steps": [
        recorded("work_a", 0.5), {"id": "nap", "uses": "control.sleep", "needs": ["work_a"], "with": {"seconds": 4}},
        llm_step("cost_b", ["nap"]), recorded("work_c", 0.2, ["cost_b"])]})
    workers.start(2)
    _, base = web_server
    probes = Probes(base)
    probes.start()
    runs = [actions.trigger_run("through-outage", {}, operator)[0].id for _ in range(6)]
    wait_until(lambda: db.session.scalar(select(func.count()).where(StepRun.step_key == "nap",
                                                                     StepRun.status == "running")), what="a nap")
    down_at = time.monotonic()
    redis_server.shutdown()
    time.sleep(OUTAGE_SECONDS)
    restart_at = time.monotonic()  # a probe answered before this instant saw no Redis
    redis_server.start()
    back_at, back_clock = time.monotonic(), utcnow()
    first = wait_until(lambda: db.session.scalar(select(func.min(StepAttempt.started_at)).where(
        StepAttempt.started_at >= back_clock)), timeout=RUNS_BOUND, what="a step to start after Redis returned")
    continued = (first - back_clock).total_seconds()
    report(f"Redis down {OUTAGE_SECONDS} s: the first step started after its return in (bound {CONTINUE_BOUND} s)",
           continued)
    finished = wait_for_runs(runs, RUNS_BOUND, workers.logs)
    report("Redis down: every run finished after its return in", time.monotonic() - back_at)
    probes.stopped.set()
    probes.join(timeout=10)
    alive = [process.poll() is None for process in workers.processes]
    ready_during = probes.statuses("ready", down_at + 2, restart_at)
    ready_after = probes.statuses("ready", back_at + CONTINUE_BOUND)
    print(f"[faults] Redis down: /live {sorted(set(probes.statuses('live')))}, /ready during the outage "
          f"{sorted(set(ready_during))}, after {sorted(set(ready_after))}")
    assert alive == [True, True], workers.logs()[-5000:]
    assert set(probes.statuses("live")) == {200}
    assert ready_during and set(ready_during) == {503}
    assert ready_after and set(ready_after) == {200}
    assert continued <= CONTINUE_BOUND
    assert_intact(finished, executions(), no_retries=True)
