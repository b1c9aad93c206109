"""``/api/v3/workflows``: definitions, versions, archive, validate; bad input is a clear 4xx."""
import copy
import json

import pytest
from sqlalchemy import select

from webapp.api.pagination import encode_cursor
from webapp.audit.models import AuditEvent
from webapp.errors import status_for
from webapp.events.models import Event
from webapp.exceptions import InvalidInput
from webapp.workflows.service import validate_trigger_params

HELLO = {
    "name": "Hello API",
    "params": {"who": {"type": "string", "required": True}},
    "steps": [
        {"id": "greet", "uses": "template.render", "with": {"template": "Hello {{ params.who }}"}},
        {"id": "count", "uses": "python.call", "needs": ["greet"],
         "with": {"function": "count_words", "args": ["{{ steps.greet.output }}"]}},
    ],
}
YAML = """
name: From YAML
steps:
  - id: wait
    uses: control.sleep
    with: {seconds: 0}
"""


def definition(**changes):
    data = copy.deepcopy(HELLO)
    data.update(changes)
    return data


@pytest.fixture
def operator(api_headers):
    return api_headers("operator")[0]


@pytest.fixture
def viewer(api_headers):
    return api_headers("viewer")[0]


def create(client, headers, body=None):
    return client.post("/api/v3/workflows", json={"definition": body or HELLO}, headers=headers)


def test_operator_creates_a_workflow_at_version_1(client, operator):
    response = create(client, operator)
    assert response.status_code == 201, response.json
    workflow = response.json["workflow"]
    assert workflow["slug"] == "hello-api" and workflow["name"] == "Hello API"
    assert workflow["current_version"] == 1 and workflow["archived"] is False
    assert workflow["definition"] == HELLO


def test_create_update_and_archive_are_audited(client, operator, db):
    create(client, operator)
    client.put("/api/v3/workflows/hello-api", json={"definition": definition(description="v2")}, headers=operator)
    client.delete("/api/v3/workflows/hello-api", headers=operator)
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert [(e.event, e.target_type, e.target_id) for e in events] == [
        ("workflow.create", "workflow", "hello-api"), ("workflow.update", "workflow", "hello-api"),
        ("workflow.archive", "workflow", "hello-api")]
    assert [e.details for e in events] == [{"version": 1}, {"version": 2}, {"version": 2}]
    assert events[0].actor_id is not None


def test_create_update_and_archive_publish_workflow_events(client, operator, db):
    create(client, operator)
    client.put("/api/v3/workflows/hello-api", json={"definition": definition(description="v2")}, headers=operator)
    client.put("/api/v3/workflows/hello-api", json={"definition": definition(description="v2")}, headers=operator)
    client.delete("/api/v3/workflows/hello-api", headers=operator)
    events = db.session.scalars(select(Event).where(Event.type.startswith("workflow.")).order_by(Event.id)).all()
    assert [(e.type, e.payload["slug"], e.payload["version"]) for e in events] == [
        ("workflow.created", "hello-api", 1), ("workflow.updated", "hello-api", 2),
        ("workflow.archived", "hello-api", 2)]


def test_a_yaml_definition_is_accepted(client, operator):
    response = create(client, operator, YAML)
    assert response.status_code == 201
    assert response.json["workflow"]["definition"]["steps"][0] == {"id": "wait", "uses": "control.sleep",
                                                                   "with": {"seconds": 0}}


def test_json_text_indented_with_tabs_is_accepted(client, operator):
    text = json.dumps(definition(name="tabbed"), indent="\t")  # YAML would refuse the tabs
    response = create(client, operator, text)
    assert response.status_code == 201 and response.json["workflow"]["slug"] == "tabbed"


def test_viewers_read_but_cannot_write(client, operator, viewer):
    create(client, operator)
    assert client.get("/api/v3/workflows/hello-api", headers=viewer).status_code == 200
    assert create(client, viewer, definition(name="other")).status_code == 403
    assert client.put("/api/v3/workflows/hello-api", json={"definition": HELLO}, headers=viewer).status_code == 403
    assert client.delete("/api/v3/workflows/hello-api", headers=viewer).status_code == 403


def test_a_second_workflow_with_the_same_slug_is_a_conflict(client, operator):
    create(client, operator)
    response = create(client, operator, definition(name="hello api!"))
    assert response.status_code == 409 and "PUT /api/v3/workflows/hello-api" in response.json["error"]["message"]


def test_put_adds_an_immutable_version_and_identical_put_adds_none(client, operator):
    create(client, operator)
    changed = definition(description="second")
    first = client.put("/api/v3/workflows/hello-api", json={"definition": changed}, headers=operator)
    again = client.put("/api/v3/workflows/hello-api", json={"definition": changed}, headers=operator)
    assert first.status_code == again.status_code == 200
    assert again.json["workflow"]["current_version"] == 2 and again.json["workflow"]["description"] == "second"
    versions = client.get("/api/v3/workflows/hello-api/versions", headers=operator).json
    assert [v["version"] for v in versions["items"]] == [2, 1] and versions["next_cursor"] is None
    assert versions["items"][1]["definition"] == HELLO


def test_versions_page_with_a_cursor(client, operator):
    create(client, operator)
    for n in range(2, 4):
        client.put("/api/v3/workflows/hello-api", json={"definition": definition(description=str(n))}, headers=operator)
    first = client.get("/api/v3/workflows/hello-api/versions?limit=2", headers=operator).json
    second = client.get(f"/api/v3/workflows/hello-api/versions?limit=2&cursor={first['next_cursor']}",
                        headers=operator).json
    assert [v["version"] for v in first["items"] + second["items"]] == [3, 2, 1] and second["next_cursor"] is None


def test_put_cannot_rename_the_slug(client, operator):
    create(client, operator)
    response = client.put("/api/v3/workflows/hello-api", json={"definition": definition(name="Renamed")},
                          headers=operator)
    assert response.status_code == 422
    assert response.json["error"]["details"]["errors"][0]["field"] == "name"


def test_archived_workflows_are_hidden_by_default_and_take_no_versions(client, operator):
    create(client, operator)
    create(client, operator, definition(name="kept"))
    assert client.delete("/api/v3/workflows/hello-api", headers=operator).json["workflow"]["archived"] is True
    listed = lambda query: [w["slug"] for w in client.get(f"/api/v3/workflows{query}", headers=operator).json["items"]]  # noqa: E731
    assert listed("") == ["kept"]
    assert listed("?archived=true") == ["hello-api"]
    assert listed("?archived=all") == ["hello-api", "kept"]
    assert client.get("/api/v3/workflows/hello-api", headers=operator).status_code == 200
    response = client.put("/api/v3/workflows/hello-api", json={"definition": HELLO}, headers=operator)
    assert response.status_code == 409 and "archived" in response.json["error"]["message"]


def test_list_is_keyset_paginated_by_slug(client, operator):
    for name in ("c", "a", "b"):
        create(client, operator, definition(name=name))
    first = client.get("/api/v3/workflows?limit=2", headers=operator).json
    second = client.get(f"/api/v3/workflows?limit=2&cursor={first['next_cursor']}", headers=operator).json
    assert [w["slug"] for w in first["items"]] == ["a", "b"] and [w["slug"] for w in second["items"]] == ["c"]
    assert second["next_cursor"] is None and "definition" not in first["items"][0]


def test_validate_reports_problems_as_data(client, viewer):
    ok = client.post("/api/v3/workflows/validate", json={"definition": HELLO}, headers=viewer)
    assert ok.status_code == 200 and ok.json == {"valid": True, "errors": []}
    bad = definition(steps=[{"id": "a", "uses": "nope"}, {"id": "b", "uses": "template.render", "needs": ["zz"],
                                                           "with": {"template": "x"}}])
    response = client.post("/api/v3/workflows/validate", json={"definition": bad}, headers=viewer)
    assert response.status_code == 200 and response.json["valid"] is False
    assert {(e["step"], e["field"]) for e in response.json["errors"]} == {("a", "uses"), ("b", "needs[0]")}


def test_validate_reports_yaml_syntax_errors_as_data(client, viewer):
    response = client.post("/api/v3/workflows/validate", json={"definition": "steps: [unclosed"}, headers=viewer)
    assert response.status_code == 200 and response.json["valid"] is False
    assert response.json["errors"][0]["field"] == "definition" and "YAML" in response.json["errors"][0]["message"]


def test_nothing_is_saved_when_validation_fails(client, operator):
    create(client, operator, definition(steps=[{"id": "a", "uses": "nope"}]))
    assert client.get("/api/v3/workflows?archived=all", headers=operator).json["items"] == []


@pytest.mark.parametrize("body, status, code, needle", [
    ({"definition": definition(steps=[{"id": "a", "uses": "shell.exec"}])}, 422, "validation_failed",
     "a.uses: unknown step kind 'shell.exec'"),
    ({"definition": definition(steps=[
        {"id": "a", "uses": "template.render", "needs": ["b"], "with": {"template": "x"}},
        {"id": "b", "uses": "template.render", "needs": ["a"], "with": {"template": "y"}}])},
     422, "validation_failed", "a.needs: needs form a cycle: a -> b -> a"),
    ({"definition": definition(params={"who": {"type": "text"}})}, 422, "validation_failed",
     "params.who.type: must be one of"),
    ({"definition": ["not", "an", "object"]}, 422, "validation_failed", "definition: must be a JSON object"),
    ({"definition": "key: &a [1]\nother: *a"}, 422, "validation_failed", "YAML aliases are not accepted"),
    ({"definition": "name: x\nwhen: 2026-01-01\nsteps: []"}, 422, "validation_failed", "not JSON"),
    ({}, 422, "validation_failed", "definition: Field required"),
    ({"definition": HELLO, "slug": "x"}, 422, "validation_failed", "slug: Extra inputs are not permitted"),
])
def test_bad_definitions_get_a_clear_4xx(client, operator, body, status, code, needle):
    response = client.post("/api/v3/workflows", json=body, headers=operator)
    assert response.status_code == status, response.json
    assert response.json["error"]["code"] == code and needle in response.json["error"]["message"]


def test_every_definition_error_is_in_the_details(client, operator):
    bad = definition(max_concurrent_runs=-1, steps=[{"id": "a", "uses": "nope"}, {"id": "a", "uses": "control.fail"}])
    errors = create(client, operator, bad).json["error"]["details"]["errors"]
    assert {(e["step"], e["field"]) for e in errors} == {(None, "max_concurrent_runs"), ("a", "uses"), ("a", "id")}


def test_nan_in_a_definition_is_refused_not_stored(client, operator):
    raw = json.dumps({"definition": definition(steps=[{"id": "a", "uses": "control.sleep", "with": {"seconds": 1}}])})
    response = client.post("/api/v3/workflows", data=raw.replace('"seconds": 1', '"seconds": NaN'),
                           headers={**operator, "Content-Type": "application/json"})
    assert response.status_code == 422 and "not JSON" in response.json["error"]["message"]


def test_a_definition_over_the_definition_limit_is_413(client, operator, app, monkeypatch):
    monkeypatch.setitem(app.config, "WORKFLOW_MAX_DEFINITION_BYTES", 2048)
    big = definition(description="x" * 1900)
    response = create(client, operator, big)
    assert response.status_code == 413 and response.json["error"]["code"] == "definition_too_large"
    assert "the limit is 2048 bytes" in response.json["error"]["message"]


def test_a_body_over_the_request_limit_is_413(client, operator, app):
    huge = definition(description="x" * (app.config["MAX_CONTENT_LENGTH"] + 10))
    assert create(client, operator, huge).status_code == 413


def test_malformed_json_is_400(client, operator):
    response = client.post("/api/v3/workflows", data="{nope", headers={**operator, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed_json"


@pytest.mark.parametrize("path, status", [
    ("/api/v3/workflows/nope", 404), ("/api/v3/workflows/nope/versions", 404),
    ("/api/v3/workflows?cursor=!!!", 400), ("/api/v3/workflows?archived=maybe", 422),
    ("/api/v3/workflows?limit=0", 422), ("/api/v3/workflows?colour=red", 422),
])
def test_bad_reads_are_clear_4xx(client, viewer, path, status):
    response = client.get(path, headers=viewer)
    assert response.status_code == status and response.json["error"]["message"]


def test_a_cursor_of_the_wrong_kind_is_400(client, operator):
    create(client, operator)
    response = client.get(f"/api/v3/workflows/hello-api/versions?cursor={encode_cursor(['x'])}", headers=operator)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_cursor"


def test_trigger_params_of_the_wrong_type_are_422_naming_each_param():
    with pytest.raises(InvalidInput) as caught:
        validate_trigger_params(HELLO, {"who": 42, "extra": True})
    assert status_for(caught.value) == 422
    assert caught.value.details["errors"] == [
        {"param": "extra", "message": "is not a param of this workflow (declared: who)"},
        {"param": "who", "message": "must be string, got integer"}]
    assert "who: must be string, got integer" in caught.value.message


@pytest.mark.parametrize("definition_text, needle", [
    ("[" * 30000 + "]" * 30000, "nested too deeply"),
    ("name: x\nsteps: " + "[" * 30 + "]" * 30, "nested deeper than 20 levels"),
])
def test_deeply_nested_yaml_is_422_not_a_crash(client, operator, definition_text, needle):
    response = create(client, operator, definition_text)
    assert response.status_code == 422 and needle in response.json["error"]["message"]


def test_a_deeply_nested_json_body_is_400_not_a_crash(client, operator):
    body = '{"definition": ' + "[" * 50000 + "]" * 50000 + "}"
    response = client.post("/api/v3/workflows", data=body, headers={**operator, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]["message"] == "The request body is nested too deeply."


def test_yaml_keys_that_are_not_strings_become_json_strings(client, operator):
    response = create(client, operator, "name: x\nparams: {1: {type: string}}\nsteps: [{id: a, uses: control.fail}]")
    assert response.status_code == 422
    assert response.json["error"]["details"]["errors"] == [
        {"step": None, "field": "params.1", "message": "a param name is letters, digits and underscores, "
                                                       "not starting with a digit"}]


def test_a_workflow_whose_slug_older_rules_made_still_takes_versions_under_its_name(client, operator, db):
    from webapp.workflows.models import Workflow
    create(client, operator, definition(name="Zoë Flow"))
    workflow = db.session.query(Workflow).filter_by(slug="zoe-flow").one()
    workflow.slug = "zo-flow"  # what a slug rule that dropped non-ASCII letters made of the name
    db.session.commit()
    changed = definition(name="Zoë Flow", description="second version")
    response = client.put("/api/v3/workflows/zo-flow", json={"definition": changed}, headers=operator)
    assert response.status_code == 200 and response.json["workflow"]["current_version"] == 2
    renamed = client.put("/api/v3/workflows/zo-flow", json={"definition": definition(name="Other")}, headers=operator)
    assert renamed.status_code == 422
