"""The decompositions API: shapes, cursor, roles, validate stores nothing, execute links workflow and run."""
from __future__ import annotations

from sqlalchemy import func, select

from webapp.audit.models import AuditEvent
from webapp.decomposition.models import Decomposition
from webapp.events.models import Event

MAP_REDUCE = {"goal": "digest three notes", "strategy": "template",
              "input": {"pattern": "map_reduce", "params": {"items": ["a", "b", "c"]}}}


def create(client, headers, body=MAP_REDUCE):
    return client.post("/api/v3/decompositions", json=body, headers=headers)


def test_create_answers_201_with_tree_and_plan_and_audits_it(client, api_headers, db):
    headers, user = api_headers("operator")
    response = create(client, headers)
    assert response.status_code == 201, response.get_json()
    body = response.get_json()["decomposition"]
    assert {"id", "goal", "strategy", "status", "tree", "plan", "workflow", "run_id"} <= set(body)
    assert body["status"] == "planned" and body["workflow"] is None and body["run_id"] is None
    assert [task["id"] for task in body["tree"]["tasks"]] == ["map_1", "map_2", "map_3", "reduce"]
    plan = body["plan"]
    assert plan["levels"] == [["map_1", "map_2", "map_3"], ["reduce"]]
    assert plan["critical_path"] == ["map_1", "reduce"] and plan["max_parallelism"] == 3
    assert plan["task_count"] == 4 and plan["estimated_cost"] == "0.00000000"
    assert set(plan["basis"]) == {"cost", "duration"}
    db.session.expire_all()
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "decomposition.create"))
    assert audit.actor_id == user.id and audit.target_id == str(body["id"])
    assert db.session.scalar(select(func.count()).select_from(Event).where(Event.type == "decomposition.created")) == 1


def test_invalid_input_is_422_with_every_error_and_stores_nothing(client, api_headers, db):
    headers, _ = api_headers("operator")
    body = {"goal": "g", "strategy": "explicit", "input": {"tasks": [
        {"id": "a", "uses": "nope"}, {"id": "b", "uses": "template.render", "depends_on": ["zz"]}]}}
    response = create(client, headers, body)
    assert response.status_code == 422
    errors = response.get_json()["error"]["details"]["errors"]
    assert {(error["task"], error["field"]) for error in errors} >= {("a", "uses"), ("b", "depends_on[0]"),
                                                                     ("b", "with.template")}
    assert db.session.scalar(select(func.count()).select_from(Decomposition)) == 0


def test_yaml_text_input_is_accepted(client, api_headers):
    headers, _ = api_headers("operator")
    text = "tasks:\n  - {id: a, uses: template.render, with: {template: hi}}\n"
    response = create(client, headers, {"goal": "g", "strategy": "explicit", "input": text})
    assert response.status_code == 201, response.get_json()
    assert response.get_json()["decomposition"]["plan"]["task_count"] == 1


def test_validate_plans_without_storing(client, api_headers, db):
    headers, _ = api_headers("operator")
    response = client.post("/api/v3/decompositions/validate", json=MAP_REDUCE, headers=headers)
    assert response.status_code == 200
    body = response.get_json()
    assert body["valid"] is True and body["errors"] == [] and body["plan"]["task_count"] == 4
    bad = client.post("/api/v3/decompositions/validate", json={**MAP_REDUCE, "strategy": "nope"}, headers=headers)
    assert bad.status_code == 200 and bad.get_json()["valid"] is False and bad.get_json()["plan"] is None
    assert db.session.scalar(select(func.count()).select_from(Decomposition)) == 0


def test_list_pages_newest_first_with_a_cursor_and_get_and_plan_read_one(client, api_headers):
    headers, _ = api_headers("operator")
    ids = [create(client, headers).get_json()["decomposition"]["id"] for _ in range(3)]
    first = client.get("/api/v3/decompositions?limit=2", headers=headers).get_json()
    assert [item["id"] for item in first["items"]] == ids[:0:-1]
    assert first["items"][0]["task_count"] == 4 and "tree" not in first["items"][0]
    second = client.get(f"/api/v3/decompositions?limit=2&cursor={first['next_cursor']}", headers=headers).get_json()
    assert [item["id"] for item in second["items"]] == [ids[0]] and second["next_cursor"] is None
    one = client.get(f"/api/v3/decompositions/{ids[0]}", headers=headers)
    assert one.status_code == 200 and one.get_json()["decomposition"]["id"] == ids[0]
    plan = client.get(f"/api/v3/decompositions/{ids[0]}/plan", headers=headers).get_json()["plan"]
    assert plan["critical_path"] == ["map_1", "reduce"]
    assert client.get("/api/v3/decompositions/999999", headers=headers).status_code == 404
    assert client.get("/api/v3/decompositions?cursor=garbage", headers=headers).status_code == 400


def test_viewers_read_but_cannot_create_validate_or_execute(client, api_headers):
    operator, _ = api_headers("operator")
    viewer, _ = api_headers("viewer")
    created = create(client, operator).get_json()["decomposition"]
    assert client.get(f"/api/v3/decompositions/{created['id']}", headers=viewer).status_code == 200
    assert create(client, viewer).status_code == 403
    assert client.post("/api/v3/decompositions/validate", json=MAP_REDUCE, headers=viewer).status_code == 403
    assert client.post(f"/api/v3/decompositions/{created['id']}/execute", json={},
                       headers=viewer).status_code == 403


def test_execute_answers_202_with_the_workflow_and_run_and_a_second_execute_is_409(client, api_headers, db, redis):
    headers, user = api_headers("operator")
    created = create(client, headers).get_json()["decomposition"]
    response = client.post(f"/api/v3/decompositions/{created['id']}/execute", json={}, headers=headers)
    assert response.status_code == 202, response.get_json()
    body = response.get_json()
    decomposition, run = body["decomposition"], body["run"]
    assert decomposition["status"] == "executed"
    assert decomposition["workflow"] == {"slug": f"decomp-{created['id']}", "version": 1}
    assert decomposition["run_id"] == run["id"] and run["workflow"] == f"decomp-{created['id']}"
    assert [step["step_id"] for step in run["steps"]] == ["map_1", "map_2", "map_3", "reduce"]
    assert run["triggered_by"] == user.id
    run_body = client.get(f"/api/v3/runs/{run['id']}", headers=headers).get_json()["run"]
    assert run_body["decomposition_id"] == created["id"] and run_body["parent"] is None
    assert all(step["children"] is None for step in run_body["steps"])
    again = client.post(f"/api/v3/decompositions/{created['id']}/execute", json={}, headers=headers)
    assert again.status_code == 409 and again.get_json()["error"]["details"]["run_id"] == run["id"]
    events = set(db.session.scalars(select(AuditEvent.event)))
    assert {"decomposition.execute", "workflow.create", "run.trigger"} <= events


def test_execute_under_a_taken_name_fails_with_the_reason_and_can_be_retried_with_another(client, api_headers,
                                                                                       db, redis):
    headers, _ = api_headers("operator")
    first = create(client, headers).get_json()["decomposition"]
    second = create(client, headers).get_json()["decomposition"]
    assert client.post(f"/api/v3/decompositions/{first['id']}/execute", json={"name": "digest"},
                       headers=headers).status_code == 202
    taken = client.post(f"/api/v3/decompositions/{second['id']}/execute", json={"name": "digest"}, headers=headers)
    assert taken.status_code == 409
    failed = client.get(f"/api/v3/decompositions/{second['id']}", headers=headers).get_json()["decomposition"]
    assert failed["status"] == "failed" and "already exists" in failed["error"] and failed["run_id"] is None
    retried = client.post(f"/api/v3/decompositions/{second['id']}/execute", json={"name": "digest two"},
                          headers=headers)
    assert retried.status_code == 202 and retried.get_json()["decomposition"]["workflow"]["slug"] == "digest-two"
