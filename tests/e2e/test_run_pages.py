"""Run pages in Chromium against gunicorn and a real `flask worker`: watch, retry, approve, resume, viewer."""
from __future__ import annotations

import os
import signal
import subprocess

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import BIN, ROOT
from tests.e2e.test_users_admin import sign_in

FINISH_MS = 45_000


@pytest.fixture
def worker(app, redis, test_env, tmp_path):
    """One real `flask worker` on the test database and Redis db, stopped after the test."""
    log = open(tmp_path / "worker.log", "w")
    process = subprocess.Popen([str(BIN / "flask"), "worker"], cwd=ROOT, env={**os.environ, **test_env},
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    yield process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=20)
    log.close()


@pytest.fixture
def start_run(db, make_user):
    """Save a definition and trigger it as an operator, the way the API does; returns the run id."""
    from webapp.runs import actions
    from webapp.workflows.service import create_workflow

    def start(definition: dict, params: dict | None = None) -> int:
        create_workflow(definition)
        db.session.commit()
        run, _created = actions.trigger_run(definition["name"], params or {}, make_user("operator"))
        return run.id

    return start


def flaky(name: str) -> dict:
    return {"name": name, "steps": [
        {"id": "prepare", "uses": "template.render", "with": {"template": "ready"}},
        {"id": "flaky", "uses": "control.fail", "needs": ["prepare"],
         "with": {"times": 1, "message": "first try fails"}},
    ]}


def open_run(page: Page, base: str, run_id: int, role_user) -> None:
    sign_in(page, base, role_user.email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{base}/runs/{run_id}")


def test_failed_control_fail_run_is_retried_from_the_page_and_succeeds(page: Page, live_server, worker, start_run,
                                                                      make_user):
    run_id = start_run(flaky("flaky-retry"))
    open_run(page, live_server, run_id, make_user("operator"))
    expect(page.get_by_test_id("run-status")).to_have_text("failed", timeout=FINISH_MS)
    expect(page.get_by_test_id("error-flaky")).to_contain_text("first try fails")
    page.get_by_test_id("retry-run").click()
    expect(page.get_by_role("alert")).to_have_text("Failed steps are running again.")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    expect(page.get_by_test_id("step-flaky")).to_have_attribute("data-status", "succeeded")
    expect(page.locator('g.dag-node[data-step="flaky"]')).to_have_attribute("data-status", "succeeded")
    page.get_by_test_id("step-flaky").evaluate("step => { step.open = true; }")
    first, second = page.get_by_test_id("logs-flaky-1"), page.get_by_test_id("logs-flaky-2")
    expect(first.locator("details")).to_have_attribute("open", "")  # a failed attempt shows its log
    expect(first).to_contain_text("attempt 1 fails on purpose")
    second.locator("summary").click()
    expect(second.locator(".log-lines")).to_contain_text("attempt 2 passes")
    expect(second.locator(".log-lines")).to_contain_text("webapp.steps.control_kinds")


def test_approval_gate_is_approved_from_the_page_with_a_comment(page: Page, live_server, worker, start_run,
                                                                make_user):
    run_id = start_run({"name": "gated", "steps": [
        {"id": "draft", "uses": "template.render", "with": {"template": "draft"}},
        {"id": "review", "uses": "gate.approval", "needs": ["draft"], "with": {"prompt": "Publish?"}},
        {"id": "publish", "uses": "template.render", "needs": ["review"], "with": {"template": "published"}},
    ]})
    open_run(page, live_server, run_id, make_user("operator"))
    expect(page.get_by_test_id("run-status")).to_have_text("paused", timeout=FINISH_MS)
    page.get_by_test_id("gate-comment-review").fill("ship it, reviewed by QA")
    page.get_by_test_id("approve-review").click()
    expect(page.get_by_role("alert")).to_have_text("Step review approved.")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    expect(page.get_by_test_id("output-review")).to_contain_text("ship it, reviewed by QA")


def test_failed_run_is_resumed_from_a_checkpoint_from_the_page(page: Page, live_server, worker, start_run,
                                                               make_user):
    run_id = start_run(flaky("flaky-resume"))
    open_run(page, live_server, run_id, make_user("operator"))
    expect(page.get_by_test_id("run-status")).to_have_text("failed", timeout=FINISH_MS)
    checkpoint = page.locator('tr[data-checkpoint="1"]')
    expect(checkpoint).to_contain_text("prepare")
    checkpoint.get_by_role("button", name="Resume from here").click()
    expect(page.get_by_role("alert")).to_have_text("Run resumed from the checkpoint.")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    expect(page.get_by_text("resumed from checkpoint")).to_be_visible()


def test_run_is_watched_reaching_succeeded_without_reloading(page: Page, live_server, worker, start_run, make_user):
    run_id = start_run({"name": "slow", "steps": [
        {"id": "first", "uses": "control.sleep", "with": {"seconds": 2}},
        {"id": "second", "uses": "control.sleep", "needs": ["first"], "with": {"seconds": 2}},
    ]})
    open_run(page, live_server, run_id, make_user("viewer"))
    expect(page.get_by_test_id("run-status")).not_to_have_text("succeeded")
    page.evaluate("window.notReloaded = true")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    expect(page.locator("svg.progress-bar")).to_have_attribute("data-done", "2")
    assert page.evaluate("window.notReloaded") is True
    expect(page.get_by_test_id("run-live")).not_to_have_attribute("hx-trigger", "every 2s")


def test_viewer_sees_no_action_buttons_and_a_forged_post_is_refused(page: Page, live_server, worker, start_run,
                                                                     make_user):
    run_id = start_run(flaky("flaky-viewer"))
    open_run(page, live_server, run_id, make_user("viewer"))
    expect(page.get_by_test_id("run-status")).to_have_text("failed", timeout=FINISH_MS)
    expect(page.get_by_role("button", name="Retry failed steps")).to_have_count(0)
    expect(page.locator("[data-testid^=retry-step-], [data-testid^=restore-], [data-testid=take-checkpoint]"))\
        .to_have_count(0)
    token = page.locator('meta[name="csrf-token"]').get_attribute("content")
    forged = page.request.post(f"{live_server}/runs/{run_id}/retry", form={"csrf_token": token})
    assert forged.status == 403
    page.reload()
    expect(page.get_by_test_id("run-status")).to_have_text("failed")


def test_operator_pauses_a_running_run_from_its_page_and_resumes_it(page: Page, live_server, worker, start_run,
                                                                    make_user, db):
    from tests.integration.runs.conftest import wait_until
    from webapp.runs.service import get_run

    run_id = start_run({"name": "pause-me", "steps": [
        {"id": "slow", "uses": "control.sleep", "with": {"seconds": 6}},
        {"id": "after", "uses": "template.render", "needs": ["slow"], "with": {"template": "done"}},
    ]})
    open_run(page, live_server, run_id, make_user("operator"))
    wait_until(lambda: get_run(run_id).step("slow").status == "running", what="slow to start")
    page.reload()
    expect(page.get_by_test_id("step-slow")).to_have_attribute("data-status", "running")
    page.get_by_test_id("pause-run").click()
    expect(page.get_by_test_id("run-status")).to_have_text("paused")
    expect(page.get_by_test_id("pause-reason")).to_have_attribute("data-reason", "operator")

    expect(page.get_by_test_id("step-slow")).to_have_attribute("data-status", "succeeded", timeout=FINISH_MS)
    page.wait_for_timeout(1500)  # a held run must not start its next step, however long it is left
    db.session.expire_all()
    assert get_run(run_id).step("after").status == "pending"
    expect(page.get_by_test_id("step-after")).to_have_attribute("data-status", "pending")

    page.get_by_test_id("resume-run").click()
    expect(page.get_by_role("alert")).to_have_text("Run resumed.")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    expect(page.get_by_test_id("step-after")).to_have_attribute("data-status", "succeeded")
