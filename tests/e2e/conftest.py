"""A live server (gunicorn) and a worker for Playwright, driving Debian's Chromium."""
from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest
import requests

from tests.conftest import BIN, ROOT

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(env: dict[str, str], what: str = "the live server",
                   stdout=subprocess.DEVNULL) -> tuple[subprocess.Popen, str]:
    """gunicorn as `make run` serves it (2 gthread workers of 16 threads) on a free port with
    ``env``, its output to ``stdout``; the process and its base URL once it answers."""
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--worker-class", "gthread", "--threads", "16", "--graceful-timeout", "5",
                               "wsgi:app"], cwd=ROOT, env=env, stdout=stdout, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            requests.get(f"{base}/api/v3/health/live", timeout=1)
            return server, base
        except requests.RequestException:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError(f"{what} did not start") from None
            time.sleep(0.2)


@pytest.fixture(scope="session")
def live_server(app, test_env):
    """gunicorn serving the test database; the `app` fixture has migrated it already.

    Served as `make run` serves it (gthread, 16 threads a worker): every open page holds one
    thread for its event stream, and streams end after a minute so a closed tab gives its
    thread back soon.
    """
    server, base = start_gunicorn({**os.environ, **test_env, "EVENTS_STREAM_MAX_SECONDS": "60"})
    yield base
    server.terminate()
    server.wait(timeout=30)


@pytest.fixture(autouse=True)
def database_outlives_the_page(db):
    """Set up before the test's page, so torn down after it: the tables are emptied once the
    browser has closed, not while its page still polls the server."""
    yield
