"""What /api/docs shows for every operation: a summary, the role in words, its error codes with
an example error body, and an example request body that its own schema accepts."""
from __future__ import annotations

import jsonschema
import pytest


@pytest.fixture
def document(client):
    return client.get("/api/v3/openapi.json").json


def operations(document):
    return [(f"{method.upper()} {path}", operation) for path, methods in document["paths"].items()
            for method, operation in methods.items()]


def test_every_operation_has_a_summary_and_states_its_role(document):
    for name, operation in operations(document):
        assert operation["summary"].strip(), name
        assert operation["description"].startswith("**Role:**"), name
        assert operation["x-required-role"] in operation["description"] or "public" in operation["description"], name


def test_protected_operations_list_401_and_operator_routes_also_403_with_example_errors(document):
    for name, operation in operations(document):
        role, codes = operation["x-required-role"], operation["responses"]
        assert ("401" in codes) == (role != "public"), name
        assert ("403" in codes) == (role in ("operator", "admin")), name
        for code in ("400", "401", "403", "404", "413", "422"):
            if code in codes:
                example = codes[code]["content"]["application/json"]["example"]
                assert example["error"]["code"] and example["error"]["message"], (name, code)


def test_operations_with_an_id_in_the_path_document_404(document):
    for name, operation in operations(document):
        if "{" in name:
            assert "404" in operation["responses"], name


def test_every_request_body_has_an_example_that_its_schema_accepts(document):
    bodies = [(name, op["requestBody"]["content"]["application/json"]) for name, op in operations(document)
              if "requestBody" in op]
    assert bodies
    for name, body in bodies:
        schema = {**body["schema"], "components": document["components"]}
        jsonschema.validate(body["example"], schema, format_checker=jsonschema.FormatChecker())
        assert {"400", "413", "422"} <= set(dict(operations(document))[name]["responses"]), name
