"""Worker fault fixtures: a private Redis the test may stop, with the app and the workers on it."""
from __future__ import annotations

import os

import pytest

from tests.integration.runs.conftest import (  # noqa: F401 (the engine's fixtures, shared)
    PLUGIN,
    Workers,
    make_workflow,
    operator,
    workers,
)
from tests.integration.workers.servers import RestartableRedis


@pytest.fixture
def private_redis(app, tmp_path):
    """A private Redis, started; the test app enqueues on it for the length of the test."""
    server = RestartableRedis(tmp_path)
    server.start()
    saved_url = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = server.url
    app.extensions.pop("flowdeck_redis", None)
    yield server
    app.config["REDIS_URL"] = saved_url
    app.extensions.pop("flowdeck_redis", None)
    server.kill()


@pytest.fixture
def outage_workers(app, db, private_redis, test_env, tmp_path):
    """``flask worker`` processes on the private Redis (stopped before it, so none outlives it)."""
    pool = Workers({**os.environ, **test_env, "STEP_PLUGINS": PLUGIN, "REDIS_URL": private_redis.url}, tmp_path)
    yield pool
    pool.stop()
