"""/runs/<id>: renders in every run and step state, polls until finished, shows only allowed actions."""
from __future__ import annotations

import re

import pytest

from tests.conftest import csrf_token_from
from webapp.audit.models import AuditEvent
from webapp.extensions import db as _db

STATES = [
    ("queued", ["pending", "pending", "pending"]),
    ("running", ["queued", "pending", "pending"]),
    ("running", ["running", "pending", "pending"]),
    ("running", ["succeeded", "retrying", "pending"]),
    ("paused", ["succeeded", "succeeded", "waiting_approval"]),
    ("succeeded", ["succeeded", "succeeded", "succeeded"]),
    ("failed", ["succeeded", "failed", "skipped"]),
    ("failed", ["succeeded", "crashed", "skipped"]),
    ("cancelled", ["succeeded", "cancelled", "cancelled"]),
]


@pytest.mark.parametrize("status,steps", STATES)
def test_run_page_renders_every_run_and_step_state(client, login_as, make_run, status, steps):
    run = make_run(status, steps, error="check failed" if status == "failed" else None)
    login_as("viewer")
    page = client.get(f"/runs/{run.id}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert f'data-testid="run-status">{status}<' in html
    for key, state in zip(["fetch", "check", "approve"], steps, strict=True):
        assert f'data-step="{key}" data-status="{state}"' in html  # the DAG box, coloured by status
        assert f'data-testid="step-{key}" data-status="{state}"' in html
    assert 'class="gantt"' in html and 'class="progress-bar"' in html
    assert "style=" not in html


def test_step_details_show_output_error_worker_cost_and_fold_large_outputs(client, login_as, make_run):
    run = make_run("failed", ["succeeded", "failed", "skipped"], output={"rows": list(range(600))})
    login_as("viewer")
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert 'data-testid="folded-output"' in html and "&#34;rows&#34;: [" in html
    assert "Traceback (most recent call last):\nStepFailed: boom" in html
    assert "host:1" in html and "0.0125" in html
    assert "hello world" in html  # the fetch step's inputs, rendered with the run's params


def test_polling_fragment_is_the_live_block_and_stops_once_the_run_is_finished(client, login_as, make_run):
    running, done = make_run("running", ["running", "pending", "pending"]), make_run("succeeded")
    login_as("viewer")
    live = client.get(f"/runs/{running.id}", headers={"HX-Request": "true"})
    assert live.status_code == 200 and live.headers["Cache-Control"] == "no-store"
    html = live.get_data(as_text=True)
    assert html.lstrip().startswith('<div id="run-live"') and "<html" not in html
    assert 'hx-trigger="every 2s, sse:run, sse:step" data-live-fallback' in html
    finished = client.get(f"/runs/{done.id}", headers={"HX-Request": "true"})
    assert finished.status_code == 286
    assert "hx-trigger" not in finished.get_data(as_text=True)
    assert "hx-trigger" not in client.get(f"/runs/{done.id}").get_data(as_text=True)


def buttons(html: str) -> set[str]:
    pattern = r'data-testid="((?:cancel-run|retry-run|retry-step-\w+|approve-\w+|restore-\d+|take-checkpoint))"'
    return set(re.findall(pattern, html))


@pytest.mark.parametrize("status,steps,expected", [
    ("running", ["running", "pending", "pending"], {"cancel-run", "take-checkpoint"}),
    ("failed", ["succeeded", "failed", "skipped"],
     {"retry-run", "retry-step-check", "take-checkpoint"}),
    ("paused", ["succeeded", "succeeded", "waiting_approval"], {"cancel-run", "approve-approve", "take-checkpoint"}),
    ("succeeded", ["succeeded", "succeeded", "succeeded"], {"take-checkpoint"}),
])
def test_operator_sees_only_the_actions_the_state_allows(client, login_as, make_run, status, steps, expected):
    run = make_run(status, steps)
    login_as("operator")
    assert buttons(client.get(f"/runs/{run.id}").get_data(as_text=True)) == expected


def test_viewer_sees_no_action_buttons_and_a_forged_post_is_refused(client, login_as, make_run):
    run = make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("viewer")
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert buttons(html) == set() and "<form method=\"post\" action=\"/runs/" not in html
    token = csrf_token_from(html)
    for path in (f"/runs/{run.id}/retry", f"/runs/{run.id}/cancel", f"/runs/{run.id}/steps/check/retry",
                 f"/runs/{run.id}/steps/approve/decide", f"/runs/{run.id}/checkpoints", "/runs/bulk"):
        assert client.post(path, data={"csrf_token": token, "decision": "approve", "run_id": run.id,
                                       "action": "retry", "confirm": "1"}).status_code == 403, path
    _db.session.expire_all()
    assert run.status == "failed"


def test_post_without_csrf_token_is_refused(client, login_as, make_run):
    run = make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("operator")
    assert client.post(f"/runs/{run.id}/retry").status_code == 400


def test_approving_a_gate_from_the_page_records_the_comment_and_audits_it(client, login_as, make_run, redis):
    run = make_run("paused", ["succeeded", "succeeded", "waiting_approval"])
    login_as("operator")
    token = csrf_token_from(client.get(f"/runs/{run.id}").get_data(as_text=True))
    answer = client.post(f"/runs/{run.id}/steps/approve/decide",
                         data={"csrf_token": token, "decision": "approve", "comment": "looks right"})
    assert answer.status_code == 302 and answer.headers["Location"].endswith(f"/runs/{run.id}")
    _db.session.expire_all()
    assert run.status == "succeeded" and run.step("approve").output["comment"] == "looks right"
    event = _db.session.query(AuditEvent).filter_by(event="run.approve").one()
    assert event.target_id == str(run.id) and event.details["comment"] == "looks right"


def test_a_stale_action_is_a_message_on_the_page_not_an_error(client, login_as, make_run):
    run = make_run("succeeded")
    login_as("operator")
    token = csrf_token_from(client.get(f"/runs/{run.id}").get_data(as_text=True))
    answer = client.post(f"/runs/{run.id}/cancel", data={"csrf_token": token}, follow_redirects=True)
    refusal = f"Run {run.id} is succeeded; only queued, running or paused runs can be cancelled."
    assert answer.status_code == 200 and refusal in answer.get_data(as_text=True)


@pytest.mark.parametrize("path,data", [
    ("/runs/{id}/steps/approve/decide", {"decision": "maybe"}),
    ("/runs/{id}/steps/approve/decide", {"decision": "approve", "comment": "x" * 2001}),
    ("/runs/{id}/checkpoints", {"note": "n" * 501}),
])
def test_bad_form_input_is_a_422(client, login_as, make_run, path, data):
    run = make_run("paused", ["succeeded", "succeeded", "waiting_approval"])
    login_as("operator")
    token = csrf_token_from(client.get(f"/runs/{run.id}").get_data(as_text=True))
    assert client.post(path.format(id=run.id), data={"csrf_token": token, **data}).status_code == 422


@pytest.mark.parametrize("run_id", [999999, 2**40])
def test_unknown_run_is_404(client, login_as, run_id):
    login_as("viewer")
    assert client.get(f"/runs/{run_id}").status_code == 404
