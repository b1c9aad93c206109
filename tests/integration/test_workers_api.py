"""Workers, queues and failed jobs through the API and the /workers page, with a real worker."""
import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import select

from tests.conftest import csrf_token_from
from tests.integration.health_servers import refused_port
from webapp.audit.models import AuditEvent
from webapp.queues import enqueue, get_queue


@pytest.fixture
def failed_job(db, redis, flask_cli):
    """A job that really failed in a `flask worker --burst` process."""
    job = enqueue("json.loads", "this is not json")
    result = flask_cli("worker", "--burst")
    assert result.returncode == 0, result.stderr
    assert job.get_status(refresh=True) == "failed"
    return job


def test_queues_list_counts_the_failed_job(client, api_headers, failed_job):
    headers, _ = api_headers("viewer")
    items = client.get("/api/v3/queues", headers=headers).json["items"]
    default = next(item for item in items if item["name"] == "default")
    assert default["failed"] == 1 and default["queued"] == 0


def test_failed_jobs_list_shows_the_error(client, api_headers, failed_job):
    headers, _ = api_headers("viewer")
    items = client.get("/api/v3/queues/default/failed", headers=headers).json["items"]
    assert [item["id"] for item in items] == [failed_job.id]
    assert "JSONDecodeError" in items[0]["error"] and items[0]["function"] == "json.loads"
    assert items[0]["ended_at"].endswith("Z")


def test_workers_list_is_empty_after_the_burst_worker_left(client, api_headers, failed_job):
    headers, _ = api_headers("viewer")
    assert client.get("/api/v3/workers", headers=headers).json == {"items": []}


def test_viewer_and_operator_cannot_requeue(client, api_headers, failed_job):
    for role in ("viewer", "operator"):
        headers, _ = api_headers(role)
        response = client.post(f"/api/v3/queues/default/failed/{failed_job.id}/requeue", headers=headers)
        assert response.status_code == 403


def audit_rows(db, event):
    return db.session.scalars(select(AuditEvent).where(AuditEvent.event == event)).all()


def test_admin_requeues_a_failed_job_and_it_is_audited(client, db, api_headers, failed_job):
    headers, admin = api_headers("admin")
    response = client.post(f"/api/v3/queues/default/failed/{failed_job.id}/requeue", headers=headers)
    assert response.status_code == 200 and response.json["job"]["status"] == "queued"
    assert failed_job.get_status(refresh=True) == "queued"
    assert get_queue("default").failed_job_registry.count == 0
    [row] = audit_rows(db, "job.requeue")
    assert (row.actor_id, row.target_type, row.target_id) == (admin.id, "rq_job", failed_job.id)
    assert row.details == {"queue": "default"}


def test_admin_deletes_a_failed_job_and_it_is_audited(client, db, api_headers, failed_job, redis):
    headers, admin = api_headers("admin")
    response = client.delete(f"/api/v3/queues/default/failed/{failed_job.id}", headers=headers)
    assert response.status_code == 204
    assert get_queue("default").failed_job_registry.count == 0
    assert not redis.exists(f"rq:job:{failed_job.id}")
    assert [row.actor_id for row in audit_rows(db, "job.delete")] == [admin.id]


@pytest.mark.parametrize("path, code", [
    ("/api/v3/queues/default/failed/no-such-job/requeue", "job_not_found"),
    ("/api/v3/queues/nope/failed/abc/requeue", "queue_not_found"),
    ("/api/v3/queues/default/failed/bad%20id%2A/requeue", "job_not_found"),
])
def test_unknown_queue_or_job_is_404(client, api_headers, redis, path, code):
    headers, _ = api_headers("admin")
    response = client.post(path, headers=headers)
    assert response.status_code == 404 and response.json["error"]["code"] == code


def test_failed_list_rejects_a_bad_limit(client, api_headers, redis):
    headers, _ = api_headers("viewer")
    assert client.get("/api/v3/queues/default/failed?limit=0", headers=headers).status_code == 422


def test_workers_page_lets_admins_requeue_from_the_browser(client, login_as, failed_job):
    login_as("admin")
    html = client.get("/workers").get_data(as_text=True)
    assert f'data-testid="failed-{failed_job.id}"' in html and "JSONDecodeError" in html
    token = csrf_token_from(html)
    response = client.post(f"/workers/failed/default/{failed_job.id}/requeue", data={"csrf_token": token})
    assert response.status_code == 302
    assert failed_job.get_status(refresh=True) == "queued"


def test_workers_page_shows_no_buttons_to_viewers(client, login_as, failed_job):
    login_as("viewer")
    html = client.get("/workers").get_data(as_text=True)
    assert "JSONDecodeError" in html and "Requeue" not in html
    token = csrf_token_from(html)
    assert client.post(f"/workers/failed/default/{failed_job.id}/delete", data={"csrf_token": token}).status_code == 403
    assert failed_job.get_status(refresh=True) == "failed"


def test_workers_page_answers_404_to_an_unknown_action(client, login_as, failed_job):
    login_as("admin")
    token = csrf_token_from(client.get("/workers").get_data(as_text=True))
    response = client.post(f"/workers/failed/default/{failed_job.id}/explode", data={"csrf_token": token})
    assert response.status_code == 404
    assert failed_job.get_status(refresh=True) == "failed"


@pytest.fixture
def redis_unreachable(app):
    """The app's Redis client pointed at a refused port, without retries, for one test."""
    saved = app.extensions.get("flowdeck_redis")
    app.extensions["flowdeck_redis"] = Redis.from_url(f"redis://127.0.0.1:{refused_port()}/0",
                                                      retry=Retry(NoBackoff(), 0))
    yield
    app.extensions["flowdeck_redis"] = saved


def test_queues_api_answers_503_while_redis_is_unreachable(client, api_headers, redis_unreachable):
    headers, _ = api_headers("viewer")
    response = client.get("/api/v3/queues", headers=headers)
    assert response.status_code == 503
    assert response.json["error"]["code"] == "dependency_unavailable"


def test_workers_page_answers_503_while_redis_is_unreachable(client, login_as, redis_unreachable):
    login_as("viewer")
    response = client.get("/workers")
    assert response.status_code == 503 and "Redis is unreachable" in response.get_data(as_text=True)
