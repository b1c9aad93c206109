"""`flask health` prints the checks as JSON and fails the shell when the system is UNHEALTHY."""
import json

from tests.integration.health_servers import refused_port


def test_flask_health_prints_every_check_with_details(app, redis, flask_cli):
    result = flask_cli("health")
    assert result.returncode == 0, result.stderr
    body = json.loads(result.stdout)
    assert set(body["checks"]) == {"database", "redis", "rabbitmq", "workers", "events"}
    assert body["checks"]["redis"]["details"]["maxmemory_policy"] == "noeviction"


def test_flask_health_ready_exits_1_when_redis_is_unreachable(app, flask_cli):
    result = flask_cli("health", "--ready", extra_env={"REDIS_URL": f"redis://127.0.0.1:{refused_port()}/0"})
    assert result.returncode == 1
    body = json.loads(result.stdout)
    assert set(body["checks"]) == {"database", "redis"}
    assert body["status"] == "UNHEALTHY" and body["checks"]["database"]["status"] == "HEALTHY"
