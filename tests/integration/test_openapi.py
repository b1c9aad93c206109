"""The OpenAPI document covers every /api/v3 route, and a fuzz run driven by it finds no 500."""
import json

import pytest

WRONG_VALUES = {
    "string": [12345, ["a"], {"a": 1}, None, "x" * 100_000],
    "integer": ["abc", 1.5, -10**30, [1], True],
    "number": ["abc", [1], {"n": 1}],
    "boolean": ["yes", 2, [True]],
    "object": ["text", [1, 2], 7],
    "array": ["text", {"a": 1}, 7],
}
MALFORMED_BODIES = [b"{", b"[1, 2]", b'"text"', b"\xff\xfe\x00", b"[" * 50_000 + b"]" * 50_000]


@pytest.fixture
def document(client):
    response = client.get("/api/v3/openapi.json")
    assert response.status_code == 200
    return response.json


def operations(document):
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


def concrete(path: str, operation) -> str:
    for parameter in operation["parameters"]:
        if parameter["in"] == "path":
            value = "1" if parameter["schema"].get("type") == "integer" else "x"
            path = path.replace("{" + parameter["name"] + "}", value)
    return path


def test_every_api_route_and_method_is_documented_with_its_role(app, document):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v3/"):
            continue
        path = rule.rule
        for part in rule.arguments:
            path = path.replace(f"<int:{part}>", "{" + part + "}").replace(f"<{part}>", "{" + part + "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            operation = document["paths"][path][method.lower()]
            assert operation["x-required-role"] == app.view_functions[rule.endpoint].access


def test_bodies_and_query_strings_come_from_the_models_the_views_validate(document):
    login = document["paths"]["/api/v3/auth/login"]["post"]
    assert "password" in json.dumps(login["requestBody"])
    runs = document["paths"]["/api/v3/runs"]["get"]
    status = next(p for p in runs["parameters"] if p["name"] == "status")
    assert "succeeded" in json.dumps(status["schema"])
    assert document["paths"]["/api/v3/runs/{run_id}"]["get"]["parameters"][0]["schema"] == {
        "type": "integer", "minimum": 0, "maximum": 2**31 - 1}


def test_public_routes_need_no_token_and_the_rest_a_bearer(document):
    assert document["paths"]["/api/v3/health/live"]["get"]["security"] == []
    assert document["paths"]["/api/v3/runs"]["get"]["security"] == [{"bearerAuth": []}]


def fuzz_cases(operation):
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    for name, prop in schema.get("properties", {}).items():
        for value in WRONG_VALUES.get(prop.get("type"), WRONG_VALUES["string"]):
            yield "body", json.dumps({name: value}).encode()
    if "requestBody" in operation:
        for raw in MALFORMED_BODIES:
            yield "body", raw
    for parameter in operation["parameters"]:
        if parameter["in"] == "query":
            for value in ("", "-1", "abc", "9" * 40, "2026-13-45", "x" * 2000):
                yield "query", {parameter["name"]: value}


def test_fuzzing_every_operation_from_the_document_finds_no_500(client, document, api_headers):
    failures = []
    for path, method, operation in operations(document):
        url = concrete(path, operation)
        headers, _ = api_headers("admin")  # fresh per operation: logout-like routes end their own token
        for where, payload in fuzz_cases(operation):
            if where == "body":
                response = client.open(url, method=method.upper(), data=payload, headers=headers,
                                       content_type="application/json")
            else:
                response = client.open(url, method=method.upper(), query_string=payload, headers=headers)
            if response.status_code >= 500:
                failures.append((method.upper(), url, payload[:80] if isinstance(payload, bytes) else payload,
                                 response.status_code))
    assert failures == []


def test_ids_beyond_the_database_range_are_404_not_500(client, api_headers):
    headers, _ = api_headers("admin")
    assert client.get(f"/api/v3/runs/{2**31}", headers=headers).status_code == 404
    assert client.get("/api/v3/runs/99999999999999999999", headers=headers).status_code == 404
