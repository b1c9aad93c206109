"""Memory fixtures: the app's store with empty L1 and statistics, and helper processes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import pytest

import tests.integration.memory.plugin  # noqa: F401  (test.double, registered in this process too)
from tests.conftest import ROOT
from tests.integration.runs.conftest import PLUGIN, Workers, make_workflow, operator  # noqa: F401 (shared fixtures)

MEMO_PLUGINS = f"{PLUGIN},tests.integration.memory.plugin"


@pytest.fixture
def store(app, db, redis):
    """The app's memory store, subscribed, with nothing in L1 and no blob files."""
    from webapp.memory.store import memory

    instance = memory()
    instance.get("global", "warm-up")  # starts the listener
    wait_for(lambda: instance.l1_live, what="the invalidation subscription")
    instance.l1.clear()
    instance.stats.forget()
    shutil.rmtree(instance.blobs.root, ignore_errors=True)
    yield instance
    instance.l1.clear()


def wait_for(check: Callable[[], Any], timeout: float = 10, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.002)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


class Helper:
    """A separate Python process running tests/integration/memory/helper.py: reads commands
    as JSON lines on stdin and answers one JSON line each on stdout."""

    def __init__(self, env: dict[str, str]) -> None:
        self.process = subprocess.Popen([sys.executable, "-m", "tests.integration.memory.helper"], cwd=ROOT,
                                        env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                        stderr=subprocess.PIPE, text=True, bufsize=1)
        self.ask({"op": "ready"})

    def ask(self, command: dict[str, Any]) -> Any:
        self.send(command)
        return self.receive()

    def send(self, command: dict[str, Any]) -> None:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()

    def receive(self) -> Any:
        line = self.process.stdout.readline()
        if not line:
            raise AssertionError(f"helper died: {self.process.stderr.read()}")
        answer = json.loads(line)
        if "error" in answer:
            raise AssertionError(f"helper failed: {answer['error']}")
        return answer["result"]

    def stop(self) -> str:
        """Stop the helper; returns what it logged."""
        if self.process.poll() is None:
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        return self.process.stderr.read()


@pytest.fixture
def workers(app, db, redis, test_env, tmp_path):
    """Real ``flask worker`` processes that also know ``test.double``."""
    pool = Workers({**os.environ, **test_env, "STEP_PLUGINS": MEMO_PLUGINS}, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def helpers(app, db, redis, test_env):
    started: list[Helper] = []

    def start(**extra_env: str) -> Helper:
        helper = Helper({**os.environ, **test_env, **extra_env})
        started.append(helper)
        return helper

    yield start
    for helper in started:
        helper.stop()
