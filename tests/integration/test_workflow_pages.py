"""``/workflows`` pages: list statistics, the live-validating editor, versions and diffs, the
trigger form generated from the params schema, and operator-only actions."""
from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import csrf_token_from
from webapp.audit.models import AuditEvent
from webapp.clock import utcnow
from webapp.runs.models import WorkflowRun
from webapp.workflows import service
from webapp.workflows.models import Workflow

PARAMS = {
    "topic": {"type": "string", "required": True, "description": "What it is about"},
    "count": {"type": "integer", "default": 3},
    "ratio": {"type": "number", "default": 0.5},
    "loud": {"type": "boolean", "default": True},
    "options": {"type": "object", "default": {"tone": "dry"}},
    "tags": {"type": "array"},
}
DEFINITION = {
    "name": "Page test", "description": "Used by the page tests",
    "params": PARAMS,
    "steps": [
        {"id": "greet", "uses": "template.render", "with": {"template": "Hi {{ params.topic }}"}},
        {"id": "shout", "uses": "template.render", "needs": ["greet"], "with": {"template": "HI"}},
    ],
}
CYCLIC = """name: Cyclic
steps:
  - id: a
    uses: template.render
    needs: [b]
    with: {template: x}
  - id: b
    uses: template.render
    needs: [a]
    with: {template: y}
"""


@pytest.fixture
def workflow(db):
    created = service.create_workflow(DEFINITION)
    db.session.commit()
    return created


def add_run(db, workflow, status: str, *, seconds: float = 1.0, ago: float = 60) -> WorkflowRun:
    created = utcnow() - timedelta(seconds=ago)
    finished = created + timedelta(seconds=seconds) if status in ("succeeded", "failed", "cancelled") else None
    run = WorkflowRun(workflow_id=workflow.id, workflow_version_id=service.get_version(workflow).id, status=status,
                      params={}, created_at=created, started_at=created, finished_at=finished)
    db.session.add(run)
    db.session.commit()
    return run


def form_post(client, path: str, page: str, **data):
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(path, data={"csrf_token": token, **data})


def field_errors(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-testid="field-error" data-param="(\w+)">(.*?)</small>', html))


def test_workflows_page_renders_empty_without_buttons_for_viewers(client, login_as):
    login_as("viewer")
    html = client.get("/workflows").get_data(as_text=True)
    assert 'data-testid="no-workflows"' in html
    assert 'data-testid="new-workflow"' not in html
    assert '>Workflows</a>' in html  # the nav item


def test_workflow_list_shows_latest_status_success_rate_and_median_duration(client, login_as, db, workflow):
    login_as("viewer")
    add_run(db, workflow, "succeeded", seconds=2, ago=400)
    add_run(db, workflow, "failed", seconds=4, ago=300)
    add_run(db, workflow, "succeeded", seconds=10, ago=200)
    add_run(db, workflow, "running", ago=100)
    html = client.get("/workflows").get_data(as_text=True)
    row = html[html.index('data-slug="page-test"'):]
    assert re.search(r'data-testid="latest-status">running<', row)
    assert re.search(r'data-testid="success-rate">67% <small class="muted">of 3', row)
    assert 'data-testid="median-duration">4.0 s<' in row


def test_every_workflow_page_renders_with_runs_in_every_state(client, login_as, db):
    from webapp.demo.seed import seed_demo

    seeded = seed_demo(150)
    db.session.commit()
    assert set(seeded.statuses) == {"queued", "running", "paused", "succeeded", "failed", "cancelled"}
    login_as("operator")
    listing = client.get("/workflows").get_data(as_text=True)
    for slug in db.session.scalars(select(Workflow.slug)):
        assert f'data-slug="{slug}"' in listing
        for page in (f"/workflows/{slug}", f"/workflows/{slug}/edit", f"/workflows/{slug}/versions"):
            response = client.get(page)
            assert response.status_code == 200, page
        detail = client.get(f"/workflows/{slug}").get_data(as_text=True)
        assert '<svg class="dag"' in detail and 'data-testid="run-row"' in detail
        assert re.search(r'href="/runs/\d+"', detail)


def test_viewer_sees_the_workflow_but_no_action_buttons(client, login_as, workflow):
    login_as("viewer")
    html = client.get("/workflows/page-test").get_data(as_text=True)
    assert "Used by the page tests" in html and '<svg class="dag"' in html
    for action in ('data-testid="trigger-form"', 'data-testid="edit"', 'data-testid="archive"'):
        assert action not in html


def test_operator_sees_trigger_edit_and_archive(client, login_as, workflow):
    login_as("operator")
    html = client.get("/workflows/page-test").get_data(as_text=True)
    for action in ('data-testid="trigger-form"', 'data-testid="edit"', 'data-testid="archive"'):
        assert action in html


def test_viewer_forged_posts_are_refused(client, login_as, db, workflow):
    login_as("viewer")
    for path in ("/workflows/new", "/workflows/page-test/edit", "/workflows/page-test/runs",
                 "/workflows/page-test/archive", "/workflows/validate"):
        response = form_post(client, path, "/workflows", definition=CYCLIC, topic="x")
        assert response.status_code == 403, path
    assert db.session.scalar(select(func.count()).select_from(WorkflowRun)) == 0
    db.session.expire_all()
    assert db.session.get(Workflow, workflow.id).archived is False


def test_validation_fragment_names_the_step_of_a_cyclic_needs(client, login_as):
    login_as("operator")
    token = csrf_token_from(client.get("/workflows/new").get_data(as_text=True))
    response = client.post("/workflows/validate", data={"definition": CYCLIC},
                           headers={"HX-Request": "true", "X-CSRFToken": token})
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in html and html.lstrip().startswith('<section id="validation"')
    error = re.search(r'<dd class="error" data-testid="step-error" data-step="(\w+)"[^>]*>(.*?)</dd>', html, re.S)
    assert error and error.group(1) == "a"
    assert "needs form a cycle: a -&gt; b -&gt; a" in error.group(2)


def test_validation_fragment_of_a_valid_definition_draws_the_graph(client, login_as):
    login_as("operator")
    token = csrf_token_from(client.get("/workflows/new").get_data(as_text=True))
    html = client.post("/workflows/validate", data={"definition": json.dumps(DEFINITION)},
                       headers={"HX-Request": "true", "X-CSRFToken": token}).get_data(as_text=True)
    assert 'data-testid="valid"' in html and 'data-step="shout"' in html


def test_saving_creates_the_workflow_then_a_new_version_both_audited(client, login_as, db):
    user = login_as("operator")
    response = form_post(client, "/workflows/new", "/workflows/new", definition=json.dumps(DEFINITION))
    assert response.status_code == 302 and response.headers["Location"].endswith("/workflows/page-test")
    changed = dict(DEFINITION, description="Second take")
    response = form_post(client, "/workflows/page-test/edit", "/workflows/page-test/edit",
                         definition=json.dumps(changed))
    assert response.status_code == 302
    workflow = service.get_workflow("page-test")
    assert workflow.current_version == 2 and workflow.description == "Second take"
    events = db.session.execute(select(AuditEvent.event, AuditEvent.actor_id)
                                .where(AuditEvent.target_id == "page-test").order_by(AuditEvent.id)).all()
    assert [tuple(row) for row in events] == [("workflow.create", user.id), ("workflow.update", user.id)]


def test_saving_an_invalid_definition_shows_the_errors_and_saves_nothing(client, login_as, db):
    login_as("operator")
    response = form_post(client, "/workflows/new", "/workflows/new", definition=CYCLIC)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'data-testid="save-problem"' in html and 'data-step="a"' in html
    assert db.session.scalar(select(func.count()).select_from(Workflow)) == 0


def test_version_diff_shows_the_change_escaped(client, login_as, db, workflow):
    service.update_workflow("page-test", dict(DEFINITION, description="<b>bold</b> move"))
    db.session.commit()
    login_as("viewer")
    html = client.get("/workflows/page-test/versions?a=1&b=2").get_data(as_text=True)
    assert '<span class="diff-remove">-  &#34;description&#34;: &#34;Used by the page tests&#34;,</span>' in html
    assert "&lt;b&gt;bold&lt;/b&gt; move" in html and "<b>bold</b>" not in html
    assert html.count('class="diff-add"') == 1


def test_trigger_form_is_generated_from_the_params_schema(client, login_as, workflow):
    login_as("operator")
    html = client.get("/workflows/page-test").get_data(as_text=True)

    def tag(name):
        match = re.search(rf'<(input|textarea)[^>]*id="param-{name}"[^>]*>', html)
        assert match, name
        return match.group(0)

    assert 'type="text"' in tag("topic") and "required" in tag("topic")
    assert 'type="number"' in tag("count") and 'step="1"' in tag("count") and 'value="3"' in tag("count")
    assert 'type="number"' in tag("ratio") and 'step="any"' in tag("ratio") and 'value="0.5"' in tag("ratio")
    assert 'type="checkbox"' in tag("loud") and "checked" in tag("loud")
    assert tag("options").startswith("<textarea") and "&#34;tone&#34;: &#34;dry&#34;" in html
    assert tag("tags").startswith("<textarea") and "required" not in tag("tags")


def test_bad_trigger_input_shows_field_errors_and_starts_nothing(client, login_as, db, workflow):
    login_as("operator")
    response = form_post(client, "/workflows/page-test/runs", "/workflows/page-test",
                         topic="", count="three", ratio="0.25", options="{broken")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    errors = field_errors(html)
    assert set(errors) == {"count", "options"}
    assert "whole number" in errors["count"] and "not valid JSON" in errors["options"]
    assert 'value="0.25"' in html  # what the operator typed stays in the form
    response = form_post(client, "/workflows/page-test/runs", "/workflows/page-test", topic="", count="2")
    errors = field_errors(response.get_data(as_text=True))
    assert response.status_code == 422 and errors == {"topic": "topic is required (string)"}
    assert db.session.scalar(select(func.count()).select_from(WorkflowRun)) == 0


def test_trigger_starts_a_typed_audited_run_and_goes_to_its_page(client, login_as, db, redis, workflow):
    user = login_as("operator")
    response = form_post(client, "/workflows/page-test/runs", "/workflows/page-test", topic="birds", count="7",
                         ratio="1.5", options='{"tone": "warm"}', tags='["a", "b"]')
    assert response.status_code == 302
    run = db.session.scalar(select(WorkflowRun))
    assert response.headers["Location"] == f"/runs/{run.id}"
    assert run.params == {"topic": "birds", "count": 7, "ratio": 1.5, "loud": False,
                          "options": {"tone": "warm"}, "tags": ["a", "b"]}
    audit = db.session.scalar(select(AuditEvent).where(AuditEvent.event == "run.trigger"))
    assert audit.actor_id == user.id and audit.target_id == str(run.id)


def test_archive_hides_actions_and_is_audited(client, login_as, db, workflow):
    login_as("operator")
    response = form_post(client, "/workflows/page-test/archive", "/workflows/page-test")
    assert response.status_code == 302
    html = client.get("/workflows/page-test").get_data(as_text=True)
    assert 'data-testid="archived"' in html and 'data-testid="trigger-form"' not in html
    assert db.session.scalar(select(AuditEvent.event).where(AuditEvent.event == "workflow.archive"))


def test_unknown_or_malformed_addresses_are_404_never_500(client, login_as, workflow):
    login_as("operator")
    for path in ("/workflows/nope", "/workflows/bad%00slug", "/workflows/" + "x" * 300,
                 "/workflows/page-test/versions?a=99999999999", "/workflows/page-test/versions?a=1&b=7",
                 "/workflows/bad%00slug/edit"):
        assert client.get(path).status_code == 404, path
    assert client.get("/workflows?after=%00").status_code == 200
