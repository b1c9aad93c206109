"""The probe routes against the real services, and with Redis made unreachable."""
import contextlib
import threading

import pytest

from tests.integration.health_servers import refused_port
from webapp.health import service
from webapp.health.checks import HealthCheck

HEALTH_EXTENSIONS = ("flowdeck_health", "flowdeck_health_history")


@contextlib.contextmanager
def health_settings(app, **overrides):
    """Rebuild this process's health clients with other settings, then put the originals back."""
    saved_config = {name: app.config[name] for name in overrides}
    saved_ext = {name: app.extensions.pop(name, None) for name in HEALTH_EXTENSIONS}
    app.config.update(overrides)
    try:
        yield
    finally:
        agg = app.extensions.get("flowdeck_health")
        if agg is not None:
            agg.shutdown()
        app.config.update(saved_config)
        for name, value in saved_ext.items():
            app.extensions.pop(name, None)
            if value is not None:
                app.extensions[name] = value


@pytest.fixture
def uncached(app):
    with health_settings(app, HEALTH_CACHE_SECONDS=0.0):
        yield


@pytest.fixture
def redis_down(app):
    with health_settings(app, REDIS_URL=f"redis://127.0.0.1:{refused_port()}/0", HEALTH_CACHE_SECONDS=0.0):
        yield


def test_live_answers_200(client):
    response = client.get("/api/v3/health/live")
    assert response.status_code == 200 and response.json == {"status": "HEALTHY"}


def test_ready_is_200_when_database_and_redis_work(client, redis, uncached):
    response = client.get("/api/v3/health/ready")
    assert response.status_code == 200
    assert set(response.json["checks"]) == {"database", "redis"}
    assert response.json["status"] == "HEALTHY"


def test_live_stays_200_and_ready_turns_503_while_redis_is_unreachable(client, redis_down):
    assert client.get("/api/v3/health/live").status_code == 200
    ready = client.get("/api/v3/health/ready")
    assert ready.status_code == 503
    assert ready.json["checks"]["redis"]["status"] == "UNHEALTHY"
    assert ready.json["checks"]["database"]["status"] == "HEALTHY"
    system = client.get("/api/v3/health/system")
    assert system.status_code == 503 and system.json["status"] == "UNHEALTHY"


def test_anonymous_system_shows_statuses_but_no_details(client, redis, uncached):
    body = client.get("/api/v3/health/system").json
    assert set(body) == {"status", "checked_at", "duration_ms", "checks"}
    assert set(body["checks"]) == {"database", "redis", "rabbitmq", "workers", "events"}
    for check in body["checks"].values():
        assert set(check) == {"status", "response_time_ms"}


def test_signed_in_user_sees_details(client, redis, login_as, uncached):
    login_as("viewer")
    body = client.get("/api/v3/health/system").json
    assert body["checks"]["redis"]["details"]["maxmemory_policy"] == "noeviction"
    rabbitmq = body["checks"]["rabbitmq"]
    assert rabbitmq["status"] == "NOT_CONFIGURED" and rabbitmq["error"] is None
    assert rabbitmq["details"] == {"reason": "AMQP_URL is not set"}


def test_health_token_shows_details_and_a_wrong_one_does_not(app, client, redis, uncached):
    with health_settings(app, HEALTH_TOKEN="monitoring-token-0123456789"):
        good = client.get("/api/v3/health/system", headers={"Authorization": "Bearer monitoring-token-0123456789"})
        bad = client.get("/api/v3/health/system", headers={"Authorization": "Bearer monitoring-token-wrong"})
    assert "details" in good.json["checks"]["database"]
    assert "details" not in bad.json["checks"]["database"]


def test_system_is_200_while_degraded(client, redis, uncached):
    body = client.get("/api/v3/health/system")
    assert body.json["checks"]["workers"]["status"] == "DEGRADED"  # no worker runs in this test
    assert body.status_code == 200 and body.json["status"] == "DEGRADED"


def test_one_check_by_name_and_unknown_name_is_404(client, redis, uncached):
    response = client.get("/api/v3/health/checks/redis")
    assert response.status_code == 200
    assert response.json["check"]["name"] == "redis" and response.json["check"]["status"] == "HEALTHY"
    missing = client.get("/api/v3/health/checks/nope")
    assert missing.status_code == 404 and missing.json["error"]["code"] == "check_not_found"


def test_history_is_bounded_and_needs_a_user(app, client, redis, login_as):
    assert client.get("/api/v3/health/history").status_code == 401
    with health_settings(app, HEALTH_CACHE_SECONDS=0.0, HEALTH_HISTORY_SIZE=3):
        for _ in range(5):
            client.get("/api/v3/health/system")
        login_as("viewer")
        items = client.get("/api/v3/health/history").json["items"]
        assert len(items) == 3
        assert [item["checked_at"] for item in items] == sorted(item["checked_at"] for item in items)
        assert set(items[-1]["checks"]["redis"]) == {"status", "response_time_ms"}
    assert client.get("/api/v3/health/history?limit=zero").status_code == 422


class CountingCheck(HealthCheck):
    """Wraps a real check, counting how many times it actually ran."""

    def __init__(self, inner: HealthCheck):
        super().__init__(inner.timeout, inner.slow_ms)
        self.inner, self.name, self.runs = inner, inner.name, 0
        self.lock = threading.Lock()

    def probe(self):
        with self.lock:
            self.runs += 1
        return self.inner.probe()


def test_twenty_concurrent_system_calls_run_each_check_once(app, client, redis):
    with health_settings(app, HEALTH_CACHE_SECONDS=30.0):
        agg = service.aggregator(app)
        counting = {name: CountingCheck(check) for name, check in agg.checks.items()}
        agg.checks = counting
        statuses = []
        barrier = threading.Barrier(20)

        def call():
            local = app.test_client()
            barrier.wait(timeout=10)
            statuses.append(local.get("/api/v3/health/system").status_code)

        threads = [threading.Thread(target=call) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert statuses == [200] * 20
        assert {name: check.runs for name, check in counting.items()} == dict.fromkeys(counting, 1)
