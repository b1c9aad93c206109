"""/runs: filters, keyset pagination, and bulk cancel/retry with a confirmation step."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.conftest import csrf_token_from
from webapp.api.pagination import encode_cursor
from webapp.audit.models import AuditEvent
from webapp.extensions import db as _db
from webapp.runs.models import WorkflowRun

ROW = re.compile(r'<tr data-run="(\d+)">')


def listed(client, url: str) -> list[int]:
    page = client.get(url)
    assert page.status_code == 200, page.get_data(as_text=True)[:500]
    return [int(run_id) for run_id in ROW.findall(page.get_data(as_text=True))]


@pytest.fixture
def other_workflow(db):
    from webapp.workflows.service import create_workflow

    workflow = create_workflow({"name": "other", "steps": [{"id": "only", "uses": "control.sleep",
                                                            "with": {"seconds": 0}}]})
    db.session.commit()
    return workflow


def test_filters_by_status_workflow_triggered_by_and_time_range(client, login_as, make_run, make_user):
    someone = make_user("operator")
    old_failed = make_run("failed", ["succeeded", "failed", "skipped"], ago=timedelta(days=3))
    new_failed = make_run("failed", ["succeeded", "failed", "skipped"], triggered_by=someone.id)
    running = make_run("running", ["running", "pending", "pending"])
    paused = make_run("paused", ["succeeded", "succeeded", "waiting_approval"], ago=timedelta(hours=30))
    done = make_run("succeeded", triggered_by=someone.id)
    login_as("viewer")
    assert listed(client, "/runs") == [done.id, running.id, new_failed.id, paused.id, old_failed.id]
    assert listed(client, "/runs?status=failed") == [new_failed.id, old_failed.id]
    assert listed(client, "/runs?status=in_progress") == [running.id, paused.id]
    assert listed(client, "/runs?range=24h") == [done.id, running.id, new_failed.id]
    assert listed(client, "/runs?status=failed&range=7d") == [new_failed.id, old_failed.id]
    assert listed(client, f"/runs?triggered_by={someone.id}") == [done.id, new_failed.id]
    assert listed(client, "/runs?workflow=pipeline&status=&range=") == listed(client, "/runs")


def test_workflow_filter_keeps_only_that_workflows_runs(client, login_as, make_run, other_workflow):
    mine, theirs = make_run(), make_run(workflow=other_workflow)
    login_as("viewer")
    assert listed(client, "/runs?workflow=other") == [theirs.id]
    assert listed(client, "/runs?workflow=pipeline") == [mine.id]


def test_keyset_pages_walk_every_run_once_newest_first(client, login_as, make_run):
    made = [make_run(ago=timedelta(minutes=index)).id for index in range(120)]
    login_as("viewer")
    seen, url, pages = [], "/runs", 0
    while url and pages < 5:
        html = client.get(url).get_data(as_text=True)
        seen += [int(run_id) for run_id in ROW.findall(html)]
        match = re.search(r'href="([^"]+)" rel="next"', html)
        url = match.group(1).replace("&amp;", "&") if match else None
        pages += 1
    assert pages == 3 and seen == made


def test_next_page_link_keeps_the_filters(client, login_as, make_run):
    failed = [make_run("failed", ["succeeded", "failed", "skipped"], ago=timedelta(minutes=i)).id for i in range(55)]
    make_run()
    login_as("viewer")
    first = client.get("/runs?status=failed").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "status=failed" in link and listed(client, link) == failed[50:]


HUGE_ID_CURSOR = encode_cursor(["2026-01-01T00:00:00+00:00", 2**40])


@pytest.mark.parametrize("query", ["status=exploded", "range=1y", "triggered_by=abc", "cursor=garbage", "page=2",
                                   f"triggered_by={2**40}", f"cursor={HUGE_ID_CURSOR}"])
def test_bad_filters_are_a_4xx(client, login_as, query):
    login_as("viewer")
    assert client.get(f"/runs?{query}").status_code in (400, 422)


def test_bulk_cancel_confirmation_lists_what_will_happen_and_acts_only_on_eligible_runs(
        client, login_as, make_run, redis):
    running = make_run("running", ["running", "pending", "pending"])
    done = make_run("succeeded")
    login_as("operator")
    token = csrf_token_from(client.get("/runs").get_data(as_text=True))
    confirm = client.post("/runs/bulk", data={"csrf_token": token, "action": "cancel",
                                              "run_id": [running.id, done.id, 987654]})
    html = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Cancel 1 run(s)?" in html
    eligible = html.split('data-testid="eligible"')[1].split("</ul>")[0]
    refused = html.split('data-testid="refused"')[1].split("</ul>")[0]
    assert f'data-run="{running.id}"' in eligible and f'data-run="{done.id}"' not in eligible
    assert f"#{done.id}: it is succeeded; only queued, running or paused runs can be cancelled" in refused
    assert "#987654: it does not exist" in refused
    _db.session.expire_all()
    assert running.status == "running"  # nothing happens before the confirmation
    answer = client.post("/runs/bulk", data={"csrf_token": token, "action": "cancel", "confirm": "1",
                                             "run_id": [running.id, done.id]}, follow_redirects=True)
    assert f"Cancelled 1 run(s): {running.id}." in answer.get_data(as_text=True)
    _db.session.expire_all()
    assert (running.status, done.status) == ("cancelled", "succeeded")
    assert [e.target_id for e in _db.session.query(AuditEvent).filter_by(event="run.cancel")] == [str(running.id)]


def test_bulk_retry_retries_failed_and_cancelled_runs_only(client, login_as, make_run, redis):
    failed = make_run("failed", ["succeeded", "failed", "skipped"])
    cancelled = make_run("cancelled", ["succeeded", "cancelled", "cancelled"])
    running = make_run("running", ["running", "pending", "pending"])
    login_as("operator")
    token = csrf_token_from(client.get("/runs").get_data(as_text=True))
    client.post("/runs/bulk", data={"csrf_token": token, "action": "retry", "confirm": "1",
                                    "run_id": [failed.id, cancelled.id, running.id]})
    _db.session.expire_all()
    assert [run.status for run in (failed, cancelled, running)] == ["running", "running", "running"]
    assert failed.step("check").status == "queued" and failed.step("fetch").status == "succeeded"
    retried = {e.target_id for e in _db.session.query(AuditEvent).filter_by(event="run.retry")}
    assert retried == {str(failed.id), str(cancelled.id)}
    assert _db.session.query(WorkflowRun).filter_by(status="running").count() == 3


@pytest.mark.parametrize("data,status", [
    ({"action": "explode", "run_id": "1"}, 422),
    ({"action": "cancel", "run_id": "one"}, 422),
    ({"action": "cancel", "run_id": str(2**40)}, 422),
])
def test_bad_bulk_input_is_a_422(client, login_as, data, status):
    login_as("operator")
    token = csrf_token_from(client.get("/runs").get_data(as_text=True))
    assert client.post("/runs/bulk", data={"csrf_token": token, **data}).status_code == status


def test_viewer_list_has_no_checkboxes_or_bulk_buttons(client, login_as, make_run):
    make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("viewer")
    html = client.get("/runs").get_data(as_text=True)
    assert 'name="run_id"' not in html and "Retry selected" not in html
