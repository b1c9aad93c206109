"""Chromium watches /health turn UNHEALTHY when Redis becomes unreachable, then recover, without a reload.

The server is our own gunicorn whose Redis goes through a TCP proxy the test stops and restarts;
a real `flask worker` talks to Redis directly, so the workers card stays live throughout.
"""
import os
import subprocess
import time

import pytest
import requests
from playwright.sync_api import Page, expect
from sqlalchemy.engine import make_url

from tests.conftest import BIN, ROOT, TEST_PASSWORD
from tests.e2e.conftest import free_port
from tests.integration.health_servers import TcpProxy

PANEL_UPDATE_MS = 15_000


def wait_until_up(base: str, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            requests.get(f"{base}/api/v3/health/live", timeout=1)
            return
        except requests.RequestException as error:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                raise RuntimeError("the proxied live server did not start") from error
            time.sleep(0.2)


@pytest.fixture
def redis_proxy(redis_url):
    proxy = TcpProxy(make_url(redis_url).port or 6379)
    proxy.start()
    yield proxy
    proxy.stop()


@pytest.fixture
def proxied_server(app, redis, test_env, redis_proxy, redis_url):
    """gunicorn on the test database, reaching Redis only through ``redis_proxy``; plus one worker."""
    db_number = make_url(redis_url).database or "0"
    env = {**os.environ, **test_env, "REDIS_URL": f"redis://127.0.0.1:{redis_proxy.port}/{db_number}",
           "HEALTH_POLL_SECONDS": "1", "HEALTH_CACHE_SECONDS": "0.5", "HEALTH_DEADLINE_SECONDS": "1",
           "HEALTH_TIMEOUT_SECONDS": "0.5"}
    port = free_port()
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "1",
                               "--worker-class", "gthread", "--threads", "8", "--graceful-timeout", "5",
                               "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    worker = subprocess.Popen([str(BIN / "flask"), "worker"], cwd=ROOT, env={**os.environ, **test_env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base, server)
        yield base
    finally:
        for process in (server, worker):
            process.terminate()
        for process in (server, worker):  # both asked first, so a slow one never leaves the other running
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


def test_health_panel_turns_unhealthy_without_reload_and_recovers(page: Page, proxied_server, redis_proxy, make_user):
    user = make_user("viewer")
    page.goto(f"{proxied_server}/login?next=/health")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Health", exact=True)).to_be_visible()
    overall = page.get_by_test_id("overall-status")
    expect(overall).to_have_text("HEALTHY", timeout=PANEL_UPDATE_MS)
    expect(page.get_by_test_id("status-rabbitmq")).to_have_text("not configured")
    page.evaluate("window.flowdeckNotReloaded = true")

    redis_proxy.stop()
    expect(overall).to_have_text("UNHEALTHY", timeout=PANEL_UPDATE_MS)
    expect(page.get_by_test_id("status-redis")).to_have_text("UNHEALTHY")
    expect(page.get_by_test_id("status-database")).to_have_text("HEALTHY")

    redis_proxy.start()
    expect(overall).to_have_text("HEALTHY", timeout=PANEL_UPDATE_MS)
    expect(page.get_by_test_id("status-redis")).to_have_text("HEALTHY")
    assert page.evaluate("window.flowdeckNotReloaded") is True
    assert page.url.endswith("/health")
