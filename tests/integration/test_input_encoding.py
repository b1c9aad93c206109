"""Invalid UTF-8 and lone surrogates are refused at the door; rows that already hold them render."""
# ruff: noqa: F811 (the fixtures imported below are requested by name)
import json

import pytest

from tests.conftest import csrf_token_from
from tests.integration.run_pages.conftest import PIPELINE, make_run, pipeline  # noqa: F401 (fixtures)
from tests.integration.runs.conftest import make_workflow, operator  # noqa: F401 (fixtures)
from webapp.extensions import db as database
from webapp.workflows.models import Workflow

API_LISTS = ["/api/v3/runs", "/api/v3/audit", "/api/v3/users", "/api/v3/workflows"]
BAD_QUERIES = ["status=\xff", "\xff=1", "q=%FF", "q=%ED%A0%80", "cursor=%C3"]  # raw, escaped, surrogate, cut


def get_raw(client, path: str, query: str, **kwargs):
    """A request whose QUERY_STRING holds exactly these bytes (latin-1 is WSGI's byte-for-byte str)."""
    return client.get(path, environ_overrides={"QUERY_STRING": query}, **kwargs)


@pytest.mark.parametrize("path", API_LISTS)
@pytest.mark.parametrize("query", BAD_QUERIES)
def test_a_query_string_that_is_not_utf8_is_a_400_on_every_list(client, api_headers, path, query):
    headers, _ = api_headers("admin")
    response = get_raw(client, path, query, headers=headers)
    assert response.status_code == 400 and response.json["error"]["code"] == "invalid_encoding"


@pytest.mark.parametrize("path", ["/runs", "/audit", "/users", "/workflows"])
def test_console_pages_answer_400_to_a_query_string_that_is_not_utf8(client, login_as, path):
    login_as("admin")
    response = get_raw(client, path, "status=\xff")
    assert response.status_code == 400 and "not valid UTF-8" in response.get_data(as_text=True)


def test_a_valid_utf8_query_string_still_works(client, api_headers):
    headers, _ = api_headers("admin")
    assert get_raw(client, "/api/v3/users", "q=Zo%C3%AB", headers=headers).status_code == 200


def test_a_workflow_name_with_a_lone_surrogate_is_a_422(client, api_headers):
    headers, _ = api_headers("operator")
    definition = {**PIPELINE, "name": "sur\ud800"}
    response = client.post("/api/v3/workflows", headers={**headers, "Content-Type": "application/json"},
                           data=json.dumps({"definition": definition}))
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"] == {"definition.name": "must be valid Unicode text"}


def test_a_lone_surrogate_in_definition_text_is_a_422(client, api_headers):
    headers, _ = api_headers("operator")
    text = json.dumps({**PIPELINE, "name": "sur\ud800"})  # the text itself is ASCII: "\ud800" is an escape
    response = client.post("/api/v3/workflows", headers=headers, json={"definition": text})
    assert response.status_code == 422 and "cannot be stored" in response.json["error"]["message"]
    assert database.session.query(Workflow).count() == 0


def test_the_editor_refuses_a_lone_surrogate_escape_without_a_500(client, login_as):
    login_as("operator")
    token = csrf_token_from(client.get("/workflows/new").get_data(as_text=True))
    response = client.post("/workflows/new", data={"csrf_token": token,
                                                   "definition": json.dumps({**PIPELINE, "name": "sur\ud800"})})
    assert response.status_code == 422 and "cannot be stored" in response.get_data(as_text=True)


def test_a_string_param_with_a_lone_surrogate_is_a_422_and_starts_no_run(client, api_headers, pipeline):
    headers, _ = api_headers("operator")
    response = client.post(f"/api/v3/workflows/{pipeline.slug}/runs", headers=headers,
                           json={"params": {"who": "v\ud800"}})
    assert response.status_code == 422
    assert response.json["error"]["details"]["fields"] == {"params.who": "must be valid Unicode text"}


def test_a_surrogate_in_a_json_key_is_a_422(client, api_headers, pipeline):
    headers, _ = api_headers("operator")
    response = client.post(f"/api/v3/workflows/{pipeline.slug}/runs", headers=headers,
                           json={"params": {"\udc80": "x"}})
    assert response.status_code == 422


def test_a_body_that_is_not_utf8_is_a_400(client, api_headers, pipeline):
    headers, _ = api_headers("operator")
    response = client.post(f"/api/v3/workflows/{pipeline.slug}/runs", data=b'{"params": {"who": "\xff"}}',
                           headers={**headers, "Content-Type": "application/json"})
    assert response.status_code == 400 and response.json["error"]["code"] == "malformed_json"


def test_a_run_saved_with_a_lone_surrogate_still_renders_its_page_and_api(client, login_as, make_run, api_headers):
    run = make_run("succeeded", output={"text": "out\udfff"})
    run.params = {"who": "v\ud800"}  # as the server accepted before the door check existed
    database.session.commit()
    login_as("viewer")
    page = client.get(f"/runs/{run.id}")
    assert page.status_code == 200 and "v\ufffd" in page.get_data(as_text=True)
    assert client.get("/runs").status_code == 200
    headers, _ = api_headers("viewer")
    assert client.get(f"/api/v3/runs/{run.id}", headers=headers).status_code == 200
