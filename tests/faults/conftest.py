"""The fault suite's own servers: a private PostgreSQL cluster and a private redis-server for the
whole suite, so a test may restart, stop or flush them; workers and gunicorn run against them.
They live as long as the package (not the session), so the app's environment is restored and
the cluster dropped before the suites that follow.

``app``, ``test_env``, ``database_url`` and ``redis_url`` are overridden here: every fixture of
tests/conftest.py that builds on them (``db``, ``redis``, ``client``, ``make_user``...) then
uses the private servers.
"""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from sqlalchemy import text

import tests.faults.plugin  # noqa: F401  (register record_execution in this process too)
from tests.conftest import environment, migrated_app, scratch_database
from tests.e2e.conftest import start_gunicorn
from tests.faults.plugin import CREATE_TABLE
from tests.faults.servers import PostgresCluster
from tests.integration.runs.conftest import Workers, make_workflow, operator  # noqa: F401
from tests.integration.workers.servers import RestartableRedis

PLUGIN = "tests.faults.plugin"
RECONCILE_INTERVAL = 2  # seconds between the workers' reconcile ticks in this suite


@pytest.fixture(scope="package")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster()
    try:
        cluster.create()
        yield cluster
    finally:
        cluster.drop()


@pytest.fixture(scope="package")
def redis_server(tmp_path_factory) -> Iterator[RestartableRedis]:
    server = RestartableRedis(tmp_path_factory.mktemp("redis"))
    server.start()
    yield server
    server.kill()


@pytest.fixture(scope="package")
def database_url(postgres_cluster) -> Iterator[str]:
    with scratch_database(postgres_cluster.url) as url:
        yield url


@pytest.fixture(scope="package")
def redis_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture(scope="package")
def test_env(database_url: str, redis_url: str, tmp_path_factory) -> dict[str, str]:
    return {**environment(database_url, redis_url, tmp_path_factory.mktemp("instance")), "STEP_PLUGINS": PLUGIN}


@pytest.fixture(scope="package")
def app(test_env):
    for application in migrated_app(test_env):
        from webapp.extensions import db

        with application.app_context(), db.engine.begin() as conn:
            conn.execute(CREATE_TABLE)
        yield application


@pytest.fixture
def redis(app, redis_server, redis_url):
    """The private Redis, flushed before and after; started again if a test left it stopped."""
    from redis import Redis

    if redis_server.process is None:
        redis_server.start()
    client = Redis.from_url(redis_url)
    client.flushall()
    yield client
    if redis_server.process is None:
        redis_server.start()
    client.flushall()
    client.close()


@pytest.fixture
def workers(app, db, redis, test_env, tmp_path):
    """``flask worker`` processes on the private servers, reconciling every RECONCILE_INTERVAL s."""
    pool = Workers({**os.environ, **test_env, "RECONCILE_INTERVAL_SECONDS": str(RECONCILE_INTERVAL)}, tmp_path)
    yield pool
    pool.stop()


@pytest.fixture
def web_server(app, db, redis, test_env, tmp_path):
    """gunicorn as ``make run`` serves it (2 gthread workers), on the private servers; yields a
    ``(process, base URL)`` pair."""
    log = open(tmp_path / "gunicorn.log", "w")
    env = {**os.environ, **test_env, "HEALTH_CACHE_SECONDS": "0.5", "HEALTH_DEADLINE_SECONDS": "1",
           "HEALTH_TIMEOUT_SECONDS": "0.5"}
    server, base = start_gunicorn(env, what="the fault suite's gunicorn", stdout=log)
    yield server, base
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait(timeout=10)
    log.close()


@pytest.fixture
def executions(db):
    """Rows of ``fault_executions`` as ``{(run_id, step_key, attempt): count}``; emptied after each test."""
    def read() -> dict[tuple[int, str, int], int]:
        db.session.rollback()
        return {(run, step, attempt): count for run, step, attempt, count in db.session.execute(text(
            "SELECT run_id, step_key, attempt, count(*) FROM fault_executions GROUP BY 1, 2, 3")).all()}

    yield read
    db.session.rollback()
    with db.engine.begin() as conn:
        conn.execute(text("TRUNCATE fault_executions"))
