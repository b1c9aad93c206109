"""``/api/v3/events`` and ``/api/v3/webhooks``: shapes, roles, redaction, validation."""
from __future__ import annotations

from webapp.events.service import publish


def test_events_list_filters_by_run_and_type_newest_first(client, db, api_headers):
    headers, _ = api_headers("viewer")
    first = publish("run.queued", {"run_id": 5})
    publish("run.queued", {"run_id": 6})
    last = publish("run.failed", {"run_id": 5})
    db.session.commit()
    body = client.get("/api/v3/events?run=5", headers=headers).get_json()
    assert [item["id"] for item in body["items"]] == [str(last.id), str(first.id)]
    assert body["items"][0] | {"occurred_at": None} == {
        "id": str(last.id), "type": "run.failed", "occurred_at": None, "subject": "run:5", "data": {"run_id": 5},
        "state": "pending", "attempts": 0, "published_at": None, "last_error": None}
    only_failed = client.get("/api/v3/events?type=run.failed", headers=headers).get_json()["items"]
    assert [item["id"] for item in only_failed] == [str(last.id)]
    family = client.get("/api/v3/events?type=run.*&limit=1", headers=headers).get_json()
    assert len(family["items"]) == 1 and family["next_cursor"]
    older = client.get(f"/api/v3/events?type=run.*&limit=5&cursor={family['next_cursor']}", headers=headers)
    assert len(older.get_json()["items"]) == 2


def test_viewers_get_personal_events_without_their_data(client, db, api_headers):
    viewer, _ = api_headers("viewer")
    admin, _ = api_headers("admin")
    publish("user.locked", {"user_id": 9, "email": "someone@example.com"})
    db.session.commit()
    seen = client.get("/api/v3/events?type=user.locked", headers=viewer).get_json()["items"][0]
    assert seen["data"] is None and seen["redacted"] is True
    assert client.get("/api/v3/events?type=user.locked", headers=admin).get_json()["items"][0]["data"]["email"]


def test_bad_event_filters_are_422_not_500(client, db, api_headers):
    headers, _ = api_headers("viewer")
    assert client.get("/api/v3/events?run=abc", headers=headers).status_code == 422
    assert client.get("/api/v3/events?state=lost", headers=headers).status_code == 422
    assert client.get("/api/v3/events?cursor=garbage", headers=headers).status_code == 400


def test_webhook_lifecycle_shows_the_secret_only_at_creation_and_rotation(client, db, redis, api_headers, allow_local):
    from webapp.audit.models import AuditEvent
    from webapp.events.models import Event

    headers, _ = api_headers("admin")
    created = client.post("/api/v3/webhooks", headers=headers,
                          json={"url": "http://127.0.0.1:9/hook", "events": ["run.failed", "run.*"],
                                "description": "pager"})
    assert created.status_code == 201
    hook = created.get_json()["webhook"]
    assert hook["secret"].startswith("whsec_") and hook["events"] == ["run.*", "run.failed"] and hook["active"]
    shown = client.get(f"/api/v3/webhooks/{hook['id']}", headers=headers).get_json()["webhook"]
    assert "secret" not in shown
    assert all("secret" not in item for item in client.get("/api/v3/webhooks", headers=headers).get_json()["items"])
    patched = client.patch(f"/api/v3/webhooks/{hook['id']}", headers=headers, json={"active": False})
    assert patched.get_json()["webhook"]["active"] is False
    rotated = client.post(f"/api/v3/webhooks/{hook['id']}/rotate-secret", headers=headers).get_json()["webhook"]
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != hook["secret"]
    assert client.delete(f"/api/v3/webhooks/{hook['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v3/webhooks/{hook['id']}", headers=headers).status_code == 404
    audited = {row.event for row in db.session.query(AuditEvent).filter(AuditEvent.event.startswith("webhook."))}
    assert audited == {"webhook.created", "webhook.updated", "webhook.secret_rotated", "webhook.deleted"}
    assert {row.type for row in db.session.query(Event).filter(Event.type.startswith("webhook."))} == audited


def test_ping_and_redeliver_are_queued_and_listed_with_their_attempts(client, db, redis, api_headers, allow_local):
    from webapp.events.webhooks.delivery import attempt

    headers, _ = api_headers("admin")
    hook = client.post("/api/v3/webhooks", headers=headers,
                       json={"url": "http://127.0.0.1:9/hook", "events": ["*"]}).get_json()["webhook"]
    ping = client.post(f"/api/v3/webhooks/{hook['id']}/ping", headers=headers)
    assert ping.status_code == 202
    delivery = ping.get_json()["delivery"]
    assert delivery["event_type"] == "webhook.ping" and delivery["status"] == "pending"
    assert attempt(delivery["id"], 0) == "failed"  # nothing listens on port 9; a ping is tried once
    log = client.get(f"/api/v3/webhooks/{hook['id']}/deliveries", headers=headers).get_json()
    (row,) = log["items"]
    (tried,) = row["attempt_log"]
    assert tried["error"] and tried["request_headers"]["webhook-id"] == row["message_id"]
    again = client.post(f"/api/v3/webhooks/deliveries/{delivery['id']}/redeliver", headers=headers)
    assert again.status_code == 202
    assert again.get_json()["items"][0]["message_id"] == delivery["message_id"]
    assert client.post("/api/v3/webhooks/deliveries/999999/redeliver", headers=headers).status_code == 404


def test_webhook_input_is_validated(client, db, api_headers, allow_local):
    headers, _ = api_headers("admin")
    refused = client.post("/api/v3/webhooks", headers=headers, json={"url": "http://10.0.0.5/x", "events": ["*"]})
    assert refused.status_code == 422 and "WEBHOOK_ALLOWED_HOSTS" in refused.get_json()["error"]["message"]
    bad_pattern = client.post("/api/v3/webhooks", headers=headers,
                              json={"url": "http://127.0.0.1/x", "events": ["run.**"]})
    assert bad_pattern.status_code == 422
    assert client.post("/api/v3/webhooks", headers=headers, json={"url": "http://127.0.0.1/x", "events": []}
                       ).status_code == 422


def test_webhooks_are_admin_only(client, db, api_headers):
    headers, _ = api_headers("operator")
    assert client.get("/api/v3/webhooks", headers=headers).status_code == 403
    created = client.post("/api/v3/webhooks", headers=headers, json={"url": "http://x/", "events": ["*"]})
    assert created.status_code == 403
