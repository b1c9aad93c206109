"""The editor page on the server side: problems carry their line, a refused save's banner lives
in the block the live check replaces, a taken name links to that workflow's editor, and the
reference panel lists every step kind with its inputs."""
from __future__ import annotations

import json
import re

import pytest

from tests.conftest import csrf_token_from
from webapp.steps.registry import all_kinds
from webapp.workflows import service

DEFINITION = {"name": "Editor page", "steps": [{"id": "one", "uses": "template.render", "with": {"template": "x"}}]}
BAD_ID = """name: Editor page
steps:
  - id: one
    uses: template.render
    with: {template: x}
  - id: get-it
    uses: template.render
    with: {template: y}
"""


@pytest.fixture
def workflow(db):
    created = service.create_workflow(DEFINITION)
    db.session.commit()
    return created


def validate(client, text: str, **extra) -> str:
    token = csrf_token_from(client.get("/workflows/new").get_data(as_text=True))
    response = client.post("/workflows/validate", data={"definition": text, **extra},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def save(client, path: str, text: str):
    token = csrf_token_from(client.get("/workflows/new").get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, "definition": text})


def test_each_problem_carries_the_line_the_editor_marks(client, login_as):
    login_as("operator")
    html = validate(client, BAD_ID)
    item = re.search(r'<dd class="error" data-testid="step-error" data-step="get-it"\s+data-line="(\d+)" '
                     r'data-message="([^"]*)"', html)
    assert item and item.group(1) == "6"
    assert "get-it.id: &#39;get-it&#39; is not a valid step id" in item.group(2)
    assert 'aria-label="Go to line 6"' in html
    assert "Not valid yet: 1 problem" in html and "problems" not in html


def test_a_refused_save_explains_itself_inside_the_block_the_next_check_replaces(client, login_as):
    login_as("operator")
    response = save(client, "/workflows/new", BAD_ID)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    block = html[html.index('<section id="validation"'):]
    assert 'data-testid="save-problem"' in block[:block.index("</section>")]
    fixed = validate(client, BAD_ID.replace("get-it", "get_it"))
    assert 'data-testid="valid"' in fixed and "save-problem" not in fixed


def test_a_taken_name_links_to_the_editor_of_that_workflow_not_to_an_api_call(client, login_as, workflow):
    login_as("operator")
    html = validate(client, json.dumps(DEFINITION))
    assert 'data-testid="name-taken"' in html
    assert f'href="/workflows/{workflow.slug}/edit" data-testid="edit-taken"' in html
    response = save(client, "/workflows/new", json.dumps(DEFINITION))
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert 'data-testid="edit-taken"' in html and "PUT /api/v3" not in html


def test_editing_flags_a_name_that_would_change_the_slug_before_saving(client, login_as, workflow):
    login_as("operator")
    html = validate(client, json.dumps(dict(DEFINITION, name="Another name")), slug=workflow.slug)
    assert 'data-testid="invalid"' in html
    assert "must keep this workflow&#39;s slug &#39;editor-page&#39;" in html
    same = validate(client, json.dumps(dict(DEFINITION, description="new")), slug=workflow.slug)
    assert 'data-testid="valid"' in same and "name-taken" not in same


def test_the_reference_panel_lists_every_kind_and_its_inputs(client, login_as):
    login_as("operator")
    html = client.get("/workflows/new").get_data(as_text=True)
    panel = html[html.index('data-testid="step-reference"'):]
    for kind in all_kinds():
        assert f'data-kind="{kind.name}"' in panel
    http = panel[panel.index('data-kind="http.request"'):]
    http = http[:http.index("</details>")]
    assert "<code>url</code> <small>required</small>" in http
    assert "<code>json</code>" in http  # the alias the definition uses, not the Python name
    assert "<code>30</code>" in http  # timeout's default


def test_the_page_loads_the_editor_scripts_with_the_nonce(client, login_as):
    login_as("operator")
    response = client.get("/workflows/new")
    html = response.get_data(as_text=True)
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    for script in ("vendor/codemirror/codemirror.min.js", "js/editor.js", "js/dag.js"):
        assert re.search(rf'<script src="/static/{re.escape(script)}" nonce="{re.escape(nonce)}" defer>', html)
    assert 'data-max-bytes="' in html
