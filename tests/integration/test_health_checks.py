"""Each check against the real service, a refused port, and a hung listener."""
import contextlib
import os
import subprocess
import time
from urllib.parse import urlsplit

import pytest
from rq import Worker
from sqlalchemy.engine import make_url

from tests.conftest import BIN, ROOT
from tests.integration.health_servers import HungListener, TcpProxy, private_redis, refused_port
from webapp.health.aggregator import SystemHealthAggregator
from webapp.health.checks import DatabaseHealthCheck, RedisHealthCheck, Status
from webapp.health.rabbitmq import RabbitMQHealthCheck
from webapp.health.service import build_checks
from webapp.health.workers import WorkersHealthCheck
from webapp.queues import enqueue

AMQP_URL = os.environ.get("TEST_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
SLOW_MS = 5000


def database_at(port: int, database_url: str, timeout: float = 1.0) -> DatabaseHealthCheck:
    url = make_url(database_url).set(host="127.0.0.1", port=port).render_as_string(hide_password=False)
    return DatabaseHealthCheck(url, None, timeout, SLOW_MS)


def redis_at(port: int, timeout: float = 1.0) -> RedisHealthCheck:
    return RedisHealthCheck(f"redis://127.0.0.1:{port}/0", timeout, SLOW_MS)


def rabbitmq_at(port: int, timeout: float = 1.0) -> RabbitMQHealthCheck:
    return RabbitMQHealthCheck(f"amqp://guest:guest@127.0.0.1:{port}/", timeout, SLOW_MS)


def workers_at(port: int, timeout: float = 1.0) -> WorkersHealthCheck:
    return WorkersHealthCheck(f"redis://127.0.0.1:{port}/0", ["default"], timeout, SLOW_MS, 100, 480)


FACTORIES = {"database": database_at, "redis": redis_at, "rabbitmq": rabbitmq_at, "workers": workers_at}


def make_check(name, port, database_url, timeout=1.0):
    if name == "database":
        return database_at(port, database_url, timeout)
    return FACTORIES[name](port, timeout)


def test_database_check_is_healthy_and_reports_the_app_pool(db, database_url):
    result = DatabaseHealthCheck(database_url, db.engine, 1.0, SLOW_MS).run()
    assert result.status is Status.HEALTHY, result.error
    assert result.details["backend"] == "postgresql"
    assert {"pool_size", "checked_out", "overflow"} <= result.details.keys()


def test_redis_check_is_healthy_on_the_shared_noeviction_redis(redis, redis_url):
    result = RedisHealthCheck(redis_url, 1.0, SLOW_MS).run()
    assert result.status is Status.HEALTHY, result.error
    assert result.details["maxmemory_policy"] == "noeviction"
    assert redis.keys("flowdeck:health:probe:*") == []


def test_redis_with_an_evicting_policy_is_degraded():
    with private_redis("--maxmemory", "64mb", "--maxmemory-policy", "allkeys-lru") as url:
        result = RedisHealthCheck(url, 1.0, SLOW_MS).run()
    assert result.status is Status.DEGRADED
    assert "allkeys-lru" in result.error and result.details["maxmemory_policy"] == "allkeys-lru"


def test_rabbitmq_check_round_trips_a_message_on_one_reused_connection():
    check = RabbitMQHealthCheck(AMQP_URL, 2.0, SLOW_MS)
    try:
        first, second = check.run(), check.run()
        assert first.status is Status.HEALTHY, first.error
        assert second.status is Status.HEALTHY, second.error
        assert second.details["connections_opened"] == 1
        assert second.details["queue"].startswith("amq.gen-")
    finally:
        check.close()


def test_rabbitmq_check_reopens_a_broken_connection():
    check = RabbitMQHealthCheck(AMQP_URL, 2.0, SLOW_MS)
    try:
        assert check.run().status is Status.HEALTHY
        check.connection.close()
        result = check.run()
        assert result.status is Status.HEALTHY, result.error
        assert result.details["connections_opened"] == 2
    finally:
        check.close()


@pytest.mark.parametrize("name", ["database", "redis", "rabbitmq", "workers"])
def test_check_is_unhealthy_against_a_refused_port(name, database_url):
    result = make_check(name, refused_port(), database_url).run()
    assert result.status is Status.UNHEALTHY
    assert result.error


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["database", "redis", "rabbitmq", "workers"])
def test_hung_dependency_fails_the_check_through_its_own_socket_timeout(name, database_url):
    with HungListener() as hung:
        result = make_check(name, hung.port, database_url, timeout=0.5).run()
    assert result.status is Status.UNHEALTHY
    assert "timeout" in result.error.lower() or "timed out" in result.error.lower(), result.error


@pytest.mark.timeout(30)
@pytest.mark.parametrize("name", ["database", "redis", "rabbitmq", "workers"])
def test_hung_dependency_is_cut_off_by_the_aggregator_deadline(name, database_url):
    with HungListener() as hung:
        # The client would wait 10 s; the probe answers at the 0.3 s deadline instead.
        agg = SystemHealthAggregator([make_check(name, hung.port, database_url, timeout=10)], 0.3, 0)
        snapshot = agg.snapshot()
        agg.shutdown()
    assert snapshot.status is Status.UNHEALTHY
    assert snapshot.checks[name].error == "timeout: no answer within 0.3 s"


def health_config(app, **overrides):
    return {**app.config, **overrides}


def test_rabbitmq_not_configured_does_not_make_the_system_unhealthy(app):
    checks = {check.name: check for check in build_checks(health_config(app, AMQP_URL=None))}
    result = checks["rabbitmq"].run()
    assert result.status is Status.NOT_CONFIGURED
    assert result.details == {"reason": "AMQP_URL is not set"}


def test_rabbitmq_configured_but_down_is_unhealthy(app):
    url = f"amqp://guest:guest@127.0.0.1:{refused_port()}/"
    checks = {check.name: check for check in build_checks(health_config(app, AMQP_URL=url))}
    assert checks["rabbitmq"].run().status is Status.UNHEALTHY


def workers_check(redis_url):
    return WorkersHealthCheck(redis_url, ["default"], 1.0, SLOW_MS, backlog_threshold=100, heartbeat_seconds=480)


def test_no_live_worker_while_a_job_waits_is_unhealthy(db, redis, redis_url):
    enqueue("jobs.maintenance.ping", "waiting")
    result = workers_check(redis_url).run()
    assert result.status is Status.UNHEALTHY
    assert result.details["live_workers"] == 0 and result.details["queued"] == 1


def test_no_worker_and_nothing_queued_is_degraded(db, redis, redis_url):
    result = workers_check(redis_url).run()
    assert result.status is Status.DEGRADED and result.error == "no live worker"


@contextlib.contextmanager
def registered_worker(redis, queues):
    """A worker registered in Redis with a fresh heartbeat that takes no jobs: the queue keeps its backlog."""
    worker = Worker(queues, connection=redis)
    worker.register_birth()
    try:
        yield worker
    finally:
        worker.register_death()


def test_backlog_over_the_threshold_is_degraded(db, redis, redis_url):
    for _ in range(3):
        enqueue("jobs.maintenance.ping", "backlog")
    with registered_worker(redis, ["default"]):
        result = WorkersHealthCheck(redis_url, ["default"], 1.0, SLOW_MS, backlog_threshold=2,
                                    heartbeat_seconds=480).run()
    assert result.status is Status.DEGRADED
    assert result.error == "backlog of 3 jobs over 2"


def test_jobs_on_a_queue_no_live_worker_serves_are_unhealthy(db, redis, redis_url):
    enqueue("jobs.maintenance.ping", "stranded")
    with registered_worker(redis, ["other"]):
        result = workers_check(redis_url).run()
    assert result.status is Status.UNHEALTHY and "default" in result.error


@pytest.mark.timeout(60)
def test_a_running_flask_worker_makes_the_workers_check_healthy(app, redis, redis_url, test_env):
    worker = subprocess.Popen([str(BIN / "flask"), "worker"], cwd=ROOT, env={**os.environ, **test_env},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check = workers_check(redis_url)
        for _ in range(150):
            result = check.run()
            if result.details.get("live_workers"):
                break
            time.sleep(0.2)
        assert result.status is Status.HEALTHY, result.error
        assert result.details["live_workers"] == 1 and result.details["queued"] == 0
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_rabbitmq_check_survives_a_connection_dropped_while_idle():
    proxy = TcpProxy(urlsplit(AMQP_URL).port or 5672)
    proxy.start()
    check = rabbitmq_at(proxy.port, timeout=2.0)
    try:
        assert check.run().status is Status.HEALTHY
        proxy.stop()  # cuts the kept connection behind pika's back
        proxy.start()
        result = check.run()
        assert result.status is Status.HEALTHY, result.error
        assert result.details["connections_opened"] == 2
    finally:
        check.close()
        proxy.stop()


def test_redis_check_survives_a_connection_dropped_while_idle(redis_url):
    parts = urlsplit(redis_url)
    proxy = TcpProxy(parts.port or 6379)
    proxy.start()
    check = RedisHealthCheck(f"redis://127.0.0.1:{proxy.port}{parts.path}", 1.0, SLOW_MS)
    try:
        assert check.run().status is Status.HEALTHY
        proxy.stop()
        proxy.start()
        result = check.run()
        assert result.status is Status.HEALTHY, result.error
    finally:
        proxy.stop()


def test_database_check_works_on_the_embedded_sqlite_database(tmp_path):
    result = DatabaseHealthCheck(f"sqlite:///{tmp_path / 'flowdeck.db'}", None, 1.0, SLOW_MS).run()
    assert result.status is Status.HEALTHY, result.error
    assert result.details == {"backend": "sqlite"}
