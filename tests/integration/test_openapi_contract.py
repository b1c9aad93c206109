"""The OpenAPI document says what the server does: required bodies, limits, ids, 413, 409 codes."""
# ruff: noqa: F811 (the fixtures imported below are requested by name)
import io

import pytest

from tests.integration.run_pages.conftest import PIPELINE, make_run, pipeline  # noqa: F401 (fixtures)
from tests.integration.runs.conftest import make_workflow, operator  # noqa: F401 (fixtures)

BIG_ID = 2**31


@pytest.fixture
def document(client):
    return client.get("/api/v3/openapi.json").json


def test_a_body_with_required_fields_is_marked_required_and_an_empty_one_is_a_422(client, document):
    login = document["paths"]["/api/v3/auth/login"]["post"]["requestBody"]
    assert login["required"] is True
    assert client.post("/api/v3/auth/login").status_code == 422


def test_a_body_whose_fields_are_all_optional_is_not_required(document, api_headers, client, pipeline):
    trigger = document["paths"]["/api/v3/workflows/{slug}/runs"]["post"]["requestBody"]
    assert trigger["required"] is False
    headers, _ = api_headers("operator")
    assert client.post(f"/api/v3/workflows/{pipeline.slug}/runs", headers=headers).status_code == 202


def register_body(document):
    return document["paths"]["/api/v3/auth/register"]["post"]["requestBody"]["content"]["application/json"]["schema"]


def test_the_password_rules_are_in_the_schema(document):
    password = register_body(document)["properties"]["password"]
    assert (password["minLength"], password["maxLength"]) == (8, 72)
    assert "UTF-8 bytes" in password["description"] and "common passwords" in password["description"]


def test_cursors_strict_integers_and_409_codes_are_documented(document):
    runs = document["paths"]["/api/v3/runs"]["get"]["parameters"]
    cursor = next(parameter for parameter in runs if parameter["name"] == "cursor")
    assert "next_cursor" in cursor["description"] and "invalid_cursor" in cursor["description"]
    description = document["info"]["description"]
    assert "illegal_state" in description and "`conflict`" in description and "not `1.0`" in description


def test_free_text_in_the_schema_refuses_nul_as_the_server_does(document):
    name = register_body(document)["properties"]["name"]
    assert name["pattern"] == "^[^\\u0000]*$"


@pytest.mark.parametrize(("method", "path"), [
    ("get", "/api/v3/runs/{id}"), ("post", "/api/v3/runs/{id}/cancel"), ("patch", "/api/v3/users/{id}"),
    ("post", "/api/v3/users/{id}/lock"), ("get", "/api/v3/users/{id}"),
])
def test_an_id_past_the_database_range_is_a_404_on_every_method(client, api_headers, method, path):
    headers, _ = api_headers("admin")
    for run_id in (BIG_ID, 10**30):
        response = getattr(client, method)(path.format(id=run_id), headers=headers, json={})
        assert response.status_code == 404, (method, path, response.status_code)


def test_a_chunked_body_over_the_limit_is_a_413(client, app):
    body = b'{"email": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    response = client.post("/api/v3/auth/login", input_stream=io.BytesIO(body),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 413 and response.json["error"]["code"] == "request_entity_too_large"


def test_a_chunked_body_under_the_limit_is_read_whole(client, make_user):
    user = make_user("viewer")
    body = f'{{"email": "{user.email}", "password": "correct horse battery staple"}}'.encode()
    response = client.post("/api/v3/auth/login", input_stream=io.BytesIO(body),
                           headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
                           environ_overrides={"wsgi.input_terminated": True})
    assert response.status_code == 200


def test_every_state_refusal_is_illegal_state_and_every_clash_is_conflict(client, api_headers, make_run,
                                                                           make_workflow):
    headers, _ = api_headers("operator")
    run = make_run("succeeded")
    cancel = client.post(f"/api/v3/runs/{run.id}/cancel", headers=headers)
    approve = client.post(f"/api/v3/runs/{run.id}/steps/approve/approve", headers=headers,
                          json={"approved": True})
    retry = client.post(f"/api/v3/runs/{run.id}/retry", headers=headers)
    for refused in (cancel, approve, retry):
        assert (refused.status_code, refused.json["error"]["code"]) == (409, "illegal_state"), refused.json
        assert refused.json["error"]["details"]["state"]
    taken = client.post("/api/v3/workflows", headers=headers, json={"definition": PIPELINE})
    assert (taken.status_code, taken.json["error"]["code"]) == (409, "conflict")


def test_a_time_in_a_query_string_must_be_iso_8601(client, api_headers):
    headers, _ = api_headers("admin")
    for path in ("/api/v3/runs?since=0.5", "/api/v3/audit?until=1700000000"):
        response = client.get(path, headers=headers)
        assert response.status_code == 422 and "ISO 8601" in response.json["error"]["message"]
    assert client.get("/api/v3/runs?since=2026-01-31T09:30:00Z", headers=headers).status_code == 200
