"""The runs, step-action and checkpoint API: shapes, roles, 409s naming the state, and 4xx on bad input."""
from __future__ import annotations

import pytest

from webapp.runs import actions

GATED = {"name": "gated-api", "params": {"n": {"type": "integer", "required": True}}, "steps": [
    {"id": "approve", "uses": "gate.approval"},
    {"id": "after", "uses": "template.render", "needs": ["approve"], "with": {"template": "{{ params.n }}"}},
]}


@pytest.fixture
def gated(make_workflow):
    return make_workflow(GATED)


def trigger(client, headers, body, slug="gated-api"):
    return client.post(f"/api/v3/workflows/{slug}/runs", json=body, headers=headers)


def test_trigger_answers_202_with_the_run_and_the_same_idempotency_key_answers_200(client, api_headers, gated):
    headers, user = api_headers("operator")
    first = trigger(client, headers, {"params": {"n": 3}, "idempotency_key": "abc"})
    assert first.status_code == 202, first.get_json()
    run = first.get_json()["run"]
    assert run["workflow"] == "gated-api" and run["version"] == 1 and run["triggered_by"] == user.id
    assert run["status"] == "paused" and run["cost_total"] == "0" and run["created_at"].endswith("Z")
    assert [(s["step_id"], s["uses"], s["needs"], s["status"]) for s in run["steps"]] == [
        ("approve", "gate.approval", [], "waiting_approval"), ("after", "template.render", ["approve"], "pending")]
    again = trigger(client, headers, {"params": {"n": 3}, "idempotency_key": "abc"})
    assert again.status_code == 200 and again.get_json()["run"]["id"] == run["id"]


@pytest.mark.parametrize("body,status,needle", [
    ({"params": {"n": "three"}}, 422, "n: must be integer, got string"),
    ({"params": {}}, 422, "n: is required"),
    ({"params": {"n": 1, "extra": 2}}, 422, "extra"),
    ({"params": [1]}, 422, "params"),
    ({"params": {"n": 1}, "colour": "red"}, 422, "colour"),
    ({"params": {"n": 1}, "idempotency_key": "k" * 201}, 422, "idempotency_key"),
])
def test_bad_trigger_bodies_get_a_clear_4xx(client, api_headers, gated, body, status, needle):
    headers, _ = api_headers("operator")
    response = trigger(client, headers, body)
    assert response.status_code == status, response.get_json()
    assert needle in str(response.get_json()["error"])


def test_malformed_huge_and_misdirected_triggers_are_4xx(client, api_headers, gated, app):
    headers, _ = api_headers("operator")
    malformed = client.post("/api/v3/workflows/gated-api/runs", data="{nope",
                            headers={**headers, "Content-Type": "application/json"})
    assert malformed.status_code == 400 and malformed.get_json()["error"]["code"] == "malformed_json"
    huge = trigger(client, headers, {"params": {"n": 1, "pad": "x" * (app.config["MAX_CONTENT_LENGTH"] + 1)}})
    assert huge.status_code == 413
    missing = trigger(client, headers, {"params": {}}, slug="no-such-flow")
    assert missing.status_code == 404 and "no-such-flow" in missing.get_json()["error"]["message"]


def test_viewers_read_but_cannot_act_and_anonymous_callers_get_401(client, api_headers, gated):
    operator_headers, _ = api_headers("operator")
    run_id = trigger(client, operator_headers, {"params": {"n": 1}}).get_json()["run"]["id"]
    viewer_headers, _ = api_headers("viewer")
    assert client.get(f"/api/v3/runs/{run_id}", headers=viewer_headers).status_code == 200
    assert trigger(client, viewer_headers, {"params": {"n": 1}}).status_code == 403
    assert client.post(f"/api/v3/runs/{run_id}/cancel", headers=viewer_headers).status_code == 403
    assert client.get(f"/api/v3/runs/{run_id}").status_code == 401


def test_approve_via_api_then_acting_on_the_finished_gate_is_409_naming_its_state(client, api_headers, gated):
    headers, user = api_headers("operator")
    run_id = trigger(client, headers, {"params": {"n": 1}}).get_json()["run"]["id"]
    url = f"/api/v3/runs/{run_id}/steps/approve/approve"
    assert client.post(url, json={"approved": "yes"}, headers=headers).status_code == 422
    decided = client.post(url, json={"approved": False, "comment": "no"}, headers=headers)
    assert decided.status_code == 200 and decided.get_json()["run"]["status"] == "failed"
    again = client.post(url, json={"approved": True}, headers=headers)
    assert again.status_code == 409 and "failed" in again.get_json()["error"]["message"]
    unknown_step = client.post(f"/api/v3/runs/{run_id}/steps/nope/approve", json={"approved": True}, headers=headers)
    assert unknown_step.status_code == 404
    cancel = client.post(f"/api/v3/runs/{run_id}/cancel", headers=headers)
    assert cancel.status_code == 409 and cancel.get_json()["error"]["details"]["state"] == "failed"
    assert "is failed" in cancel.get_json()["error"]["message"]


def test_cancel_resume_retry_and_step_retry_through_the_api(client, api_headers, gated, db):
    from webapp.audit.models import AuditEvent

    headers, user = api_headers("operator")
    run_id = trigger(client, headers, {"params": {"n": 1}}).get_json()["run"]["id"]
    at_gate = client.post(f"/api/v3/runs/{run_id}/resume", headers=headers)  # only a decision lifts a gate
    assert at_gate.status_code == 409 and "approve or reject" in at_gate.get_json()["error"]["message"]
    cancelled = client.post(f"/api/v3/runs/{run_id}/cancel", headers=headers).get_json()["run"]
    assert cancelled["status"] == "cancelled" and {s["status"] for s in cancelled["steps"]} == {"cancelled"}
    unknown = client.post(f"/api/v3/runs/{run_id}/resume", json={"checkpoint_id": 999}, headers=headers)
    assert unknown.status_code == 404
    retried = client.post(f"/api/v3/runs/{run_id}/retry", headers=headers).get_json()["run"]
    assert retried["status"] == "paused" and retried["steps"][0]["status"] == "waiting_approval"
    at_gate = client.post(f"/api/v3/runs/{run_id}/resume", json={"checkpoint_id": 1}, headers=headers)
    assert at_gate.status_code == 409
    step_retry = client.post(f"/api/v3/runs/{run_id}/steps/approve/retry", headers=headers)
    assert step_retry.status_code == 409 and "waiting_approval" in step_retry.get_json()["error"]["message"]
    client.post(f"/api/v3/runs/{run_id}/steps/approve/approve", json={"approved": False}, headers=headers)
    again = client.post(f"/api/v3/runs/{run_id}/steps/approve/retry", headers=headers).get_json()["run"]
    assert [s["status"] for s in again["steps"]] == ["waiting_approval", "pending"]
    db.session.expire_all()
    events = [e.event for e in db.session.query(AuditEvent).filter_by(target_type="run").order_by(AuditEvent.id)]
    assert events == ["run.trigger", "run.cancel", "run.retry", "run.reject", "run.retry_step"]


def test_checkpoints_are_listed_created_read_restored_and_deleted(client, api_headers, gated):
    headers, user = api_headers("operator")
    run_id = trigger(client, headers, {"params": {"n": 1}}).get_json()["run"]["id"]
    created = client.post(f"/api/v3/runs/{run_id}/checkpoints", json={"note": "before deciding"}, headers=headers)
    assert created.status_code == 201
    checkpoint = created.get_json()["checkpoint"]
    assert checkpoint["kind"] == "manual" and checkpoint["seq"] == 1 and checkpoint["state"]["params"] == {"n": 1}
    assert client.get(f"/api/v3/checkpoints/{checkpoint['id']}", headers=headers).get_json()["checkpoint"] == checkpoint
    listed = client.get(f"/api/v3/runs/{run_id}/checkpoints", headers=headers).get_json()["items"]
    assert [c["id"] for c in listed] == [checkpoint["id"]]
    client.post(f"/api/v3/runs/{run_id}/cancel", headers=headers)
    restored = client.post(f"/api/v3/checkpoints/{checkpoint['id']}/restore", headers=headers)
    assert restored.status_code == 200 and restored.get_json()["run"]["status"] == "paused"
    assert client.delete(f"/api/v3/checkpoints/{checkpoint['id']}", headers=headers).status_code == 409
    client.post(f"/api/v3/runs/{run_id}/cancel", headers=headers)
    assert client.delete(f"/api/v3/checkpoints/{checkpoint['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v3/checkpoints/{checkpoint['id']}", headers=headers).status_code == 404


def test_runs_list_filters_and_pages_with_a_cursor(client, api_headers, gated, make_workflow, make_user):
    headers, user = api_headers("operator")
    make_workflow({"name": "other", "steps": [{"id": "approve", "uses": "gate.approval"}]})
    ids = [trigger(client, headers, {"params": {"n": i}}).get_json()["run"]["id"] for i in range(3)]
    other = trigger(client, headers, {}, slug="other").get_json()["run"]["id"]
    actions.cancel(ids[0], user)
    first = client.get("/api/v3/runs?workflow=gated-api&limit=2", headers=headers).get_json()
    assert [r["id"] for r in first["items"]] == [ids[2], ids[1]] and first["next_cursor"]
    next_page = f"/api/v3/runs?workflow=gated-api&limit=2&cursor={first['next_cursor']}"
    second = client.get(next_page, headers=headers).get_json()
    assert [r["id"] for r in second["items"]] == [ids[0]] and second["next_cursor"] is None
    cancelled = client.get("/api/v3/runs?status=cancelled", headers=headers).get_json()["items"]
    assert [r["id"] for r in cancelled] == [ids[0]]
    everyone = client.get(f"/api/v3/runs?triggered_by={user.id}&since=2000-01-01T00:00:00Z", headers=headers).get_json()
    assert [r["id"] for r in everyone["items"]] == [other, *reversed(ids)]
    assert client.get("/api/v3/runs?since=2999-01-01", headers=headers).get_json()["items"] == []


def test_the_runs_list_gives_summaries_with_step_counts_and_the_run_page_has_the_steps(client, api_headers, gated):
    headers, _ = api_headers("operator")
    run_id = trigger(client, headers, {"params": {"n": 1}}).get_json()["run"]["id"]
    [item] = client.get("/api/v3/runs", headers=headers).get_json()["items"]
    assert item["id"] == run_id and "steps" not in item
    assert item["step_counts"] == {"succeeded": 0, "total": 2} and item["workflow"] == "gated-api"
    one = client.get(f"/api/v3/runs/{run_id}", headers=headers).get_json()["run"]
    item.pop("step_counts")
    assert {key: one[key] for key in item} == item  # the same fields as the run itself, minus its steps
    assert [step["step_id"] for step in one["steps"]] == ["approve", "after"]


@pytest.mark.parametrize("query,status", [
    ("status=exploded", 422), ("limit=0", 422), ("since=yesterday", 422), ("triggered_by=x", 422),
    ("cursor=not-a-cursor", 400), ("colour=red", 422),
])
def test_bad_list_queries_are_4xx(client, api_headers, query, status):
    headers, _ = api_headers("viewer")
    response = client.get(f"/api/v3/runs?{query}", headers=headers)
    assert response.status_code == status, response.get_json()
    assert response.get_json()["error"]["message"]


def test_unknown_runs_and_checkpoints_are_404(client, api_headers):
    headers, _ = api_headers("operator")
    assert client.get("/api/v3/runs/12345", headers=headers).status_code == 404
    assert client.post("/api/v3/runs/12345/cancel", headers=headers).status_code == 404
    assert client.get("/api/v3/checkpoints/12345", headers=headers).status_code == 404
    assert client.delete("/api/v3/checkpoints/12345", headers=headers).status_code == 404


def test_resuming_or_retrying_a_running_run_is_409_naming_its_state(client, api_headers, make_workflow):
    headers, _ = api_headers("operator")
    make_workflow({"name": "busy", "steps": [{"id": "a", "uses": "template.render", "with": {"template": "a"}}]})
    run_id = trigger(client, headers, {}, slug="busy").get_json()["run"]["id"]
    for action in ("resume", "retry"):
        response = client.post(f"/api/v3/runs/{run_id}/{action}", headers=headers)
        assert response.status_code == 409 and "is running" in response.get_json()["error"]["message"]
        assert response.get_json()["error"]["details"]["state"] == "running"
