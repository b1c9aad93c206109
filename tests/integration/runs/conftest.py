"""Engine fixtures: real ``flask worker`` processes, workflows from definitions, bounded waits."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from typing import Any

import pytest

import tests.integration.runs.plugin  # noqa: F401  (register count_execution in this process too)
from tests.conftest import BIN, ROOT
from tests.integration.runs.plugin import COUNTER_PREFIX

PLUGIN = "tests.integration.runs.plugin"
WORKER_STOP_SECONDS = 20


class Workers:
    """N worker processes, each in its own process group so a test can SIGKILL one whole."""

    def __init__(self, env: dict[str, str], log_dir) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1, args: tuple[str, ...] = ()) -> list[str]:
        """Start ``count`` workers with extra ``flask worker`` arguments; their RQ names."""
        names = []
        for _ in range(count):
            index = len(self.processes)
            names.append(f"test-worker-{os.getpid()}-{index}")
            log = open(self.log_dir / f"worker-{index}.log", "w")
            self.processes.append(subprocess.Popen(
                [str(BIN / "flask"), "worker", "--name", names[-1], *args], cwd=ROOT,
                env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True))
        return names

    def kill(self, process: subprocess.Popen, horse_pid: int) -> None:
        """SIGKILL the worker and its work horse (RQ puts the horse in its own process group),
        as a lost node or container would."""
        from webapp.runs.reconcile import pid_alive

        os.killpg(process.pid, signal.SIGKILL)
        os.kill(horse_pid, signal.SIGKILL)
        process.wait(timeout=WORKER_STOP_SECONDS)
        deadline = time.monotonic() + WORKER_STOP_SECONDS  # SIGKILL is delivered asynchronously
        while pid_alive(horse_pid) and time.monotonic() < deadline:
            time.sleep(0.05)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=WORKER_STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=WORKER_STOP_SECONDS)

    def logs(self) -> str:
        return "\n".join(path.read_text() for path in sorted(self.log_dir.glob("worker-*.log")))


@pytest.fixture
def workers(app, db, redis, test_env, tmp_path):
    pool = Workers({**os.environ, **test_env, "STEP_PLUGINS": PLUGIN}, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def make_workflow(db, make_user):
    """Save a definition through the workflows service; returns the Workflow."""
    from webapp.workflows.service import create_workflow

    def make(definition: dict[str, Any]):
        workflow = create_workflow(definition)
        db.session.commit()
        return workflow

    return make


@pytest.fixture
def operator(make_user):
    return make_user("operator")


def wait_until(check: Callable[[], Any], timeout: float = 60, what: str = "condition") -> Any:
    """Poll ``check`` (with a fresh session view) until it returns something truthy."""
    from webapp.extensions import db

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        db.session.expire_all()
        result = check()
        if result:
            return result
        db.session.rollback()
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def wait_for_run(run_id: int, statuses=("succeeded", "failed", "cancelled"), timeout: float = 60):
    from webapp.runs.service import get_run

    def finished():
        run = get_run(run_id)
        return run if run.status in statuses else None

    return wait_until(finished, timeout, f"run {run_id} to be {'/'.join(statuses)}")


def horse_pid(step) -> int:
    """The pid of the work horse running ``step`` (the engine records ``host:pid``)."""
    return int(step.worker.rpartition(":")[2])


def executions(redis, key: str) -> int:
    return int(redis.get(COUNTER_PREFIX + key) or 0)


def counted(step_id: str, needs: list[str] | None = None, **extra) -> dict[str, Any]:
    """A step that counts its executions under ``<run id>-<step id>``."""
    return {"id": step_id, "uses": "python.call", "needs": needs or [],
            "with": {"function": "count_execution", "args": ["{{ run.id }}-" + step_id]}, **extra}
