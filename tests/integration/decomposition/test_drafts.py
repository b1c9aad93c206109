"""Drafts: kept as written, valid or not; edited; planned into ``planned`` or refused with every error."""
from __future__ import annotations

from sqlalchemy import select

from tests.conftest import csrf_token_from
from webapp.audit.models import AuditEvent
from webapp.decomposition.models import Decomposition
from webapp.extensions import db

BROKEN = {"tasks": [{"id": "a", "uses": "nope"}]}
FIXED = {"tasks": [{"id": "a", "uses": "template.render", "with": {"template": "hi"}}]}


def test_an_invalid_draft_is_kept_edited_then_planned_and_only_a_planned_one_executes(client, api_headers, db):
    headers, user = api_headers("operator")
    created = client.post("/api/v3/decompositions", headers=headers,
                          json={"goal": "say hi", "strategy": "explicit", "input": BROKEN, "draft": True})
    assert created.status_code == 201, created.get_json()
    draft = created.get_json()["decomposition"]
    assert draft["status"] == "draft" and draft["tree"] is None and draft["plan"] is None
    assert draft["input"] == BROKEN
    assert client.get(f"/api/v3/decompositions/{draft['id']}/plan", headers=headers).get_json() == {"plan": None}
    listed = client.get("/api/v3/decompositions", headers=headers).get_json()["items"]
    assert listed[0]["status"] == "draft" and listed[0]["task_count"] is None

    refused = client.post(f"/api/v3/decompositions/{draft['id']}/execute", json={}, headers=headers)
    assert refused.status_code == 409 and refused.get_json()["error"]["details"]["state"] == "draft"
    planned = client.post(f"/api/v3/decompositions/{draft['id']}/plan", headers=headers)
    assert planned.status_code == 422
    assert [(e["task"], e["field"]) for e in planned.get_json()["error"]["details"]["errors"]] == [("a", "uses")]
    db.session.expire_all()
    assert db.session.get(Decomposition, draft["id"]).status == "draft"

    edited = client.put(f"/api/v3/decompositions/{draft['id']}", headers=headers,
                        json={"goal": "say hi", "strategy": "explicit", "input": FIXED})
    assert edited.status_code == 200 and edited.get_json()["decomposition"]["input"] == FIXED
    planned = client.post(f"/api/v3/decompositions/{draft['id']}/plan", headers=headers)
    assert planned.status_code == 200, planned.get_json()
    body = planned.get_json()["decomposition"]
    assert body["status"] == "planned" and body["plan"]["task_count"] == 1 and body["tree"] == FIXED

    again = client.put(f"/api/v3/decompositions/{draft['id']}", headers=headers,
                       json={"goal": "x", "strategy": "explicit", "input": BROKEN})
    assert again.status_code == 409 and "is planned, so it cannot be edited" in again.get_json()["error"]["message"]
    assert client.post(f"/api/v3/decompositions/{draft['id']}/plan", headers=headers).status_code == 409
    events = list(db.session.scalars(select(AuditEvent.event).where(AuditEvent.target_type == "decomposition")
                                     .order_by(AuditEvent.id)))
    assert events == ["decomposition.create", "decomposition.edit", "decomposition.plan"]


def test_the_console_saves_a_draft_reopens_it_in_the_editor_and_plans_it(client, login_as):
    login_as("operator")
    page = client.get("/decompositions/new").get_data(as_text=True)
    token = csrf_token_from(page)
    saved = client.post("/decompositions/new", data={"csrf_token": token, "goal": "say hi", "strategy": "explicit",
                                                     "input": "tasks: [{id: a, uses: nope}]", "action": "draft"})
    assert saved.status_code == 302
    draft_id = int(saved.headers["Location"].rstrip("/").rsplit("/", 1)[-1])
    detail = client.get(f"/decompositions/{draft_id}").get_data(as_text=True)
    assert 'data-testid="draft-section"' in detail and "tasks: [{id: a, uses: nope}]" in detail
    assert 'data-testid="execute"' not in detail
    editor = client.get(f"/decompositions/{draft_id}/edit").get_data(as_text=True)
    assert f'name="draft_id" value="{draft_id}"' in editor and 'data-testid="invalid"' in editor

    problem = client.post("/decompositions/new", data={"csrf_token": token, "goal": "say hi", "strategy": "explicit",
                                                       "input": "tasks: [{id: b, uses: nope}]", "action": "plan",
                                                       "draft_id": draft_id})
    assert problem.status_code == 422 and "unknown step kind" in problem.get_data(as_text=True)
    db.session.expire_all()
    kept = db.session.get(Decomposition, draft_id)
    assert kept.status == "draft" and kept.input == {"text": "tasks: [{id: b, uses: nope}]"}  # the edit is kept

    planned = client.post("/decompositions/new", data={
        "csrf_token": token, "goal": "say hi", "strategy": "explicit", "action": "plan", "draft_id": draft_id,
        "input": "tasks: [{id: a, uses: template.render, with: {template: hi}}]"})
    assert planned.status_code == 302
    db.session.expire_all()
    assert db.session.get(Decomposition, draft_id).status == "planned"
    assert 'data-testid="execute"' in client.get(f"/decompositions/{draft_id}").get_data(as_text=True)
    assert client.get(f"/decompositions/{draft_id}/edit").status_code == 302  # only a draft is edited


def test_a_draft_without_input_plans_into_the_same_error_as_a_new_decomposition(client, api_headers):
    headers, _ = api_headers("operator")
    draft = client.post("/api/v3/decompositions", headers=headers,
                        json={"goal": "later", "strategy": "explicit", "draft": True}).get_json()["decomposition"]
    planned = client.post(f"/api/v3/decompositions/{draft['id']}/plan", headers=headers)
    direct = client.post("/api/v3/decompositions", headers=headers, json={"goal": "later", "strategy": "explicit"})
    assert planned.status_code == direct.status_code == 422
    assert planned.get_json()["error"]["details"] == direct.get_json()["error"]["details"]
