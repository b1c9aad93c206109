"""An operator writes a map_reduce decomposition in Chromium, sees the plan and estimate, saves it as a
draft, reopens and plans it, executes it and watches the run finish (the run page lives on the event
stream, so the dispatcher runs too)."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_live_run_page import stream_server  # noqa: F401  (gunicorn and an event dispatcher)
from tests.e2e.test_run_pages import FINISH_MS, worker  # noqa: F401  (the real `flask worker` fixture)
from tests.e2e.test_users_admin import sign_in

# Live validation is a debounced round trip; the first one warms a cold server on a loaded machine.
VALIDATE_MS = 20_000
MAP_REDUCE = """pattern: map_reduce
params:
  items: [north, south, east]
  map: {uses: llm.complete, with: {model: local-small, prompt: "Report on {{ item }}", max_tokens: 16}}
  reduce: {uses: template.render, with: {template: "{{ outputs }}"}}
"""


def test_operator_writes_a_map_reduce_sees_the_plan_executes_it_and_watches_the_run_finish(
        page: Page, stream_server, worker, make_user):  # noqa: F811
    operator = make_user("operator")
    sign_in(page, stream_server, operator.email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_role("link", name="Decompositions").click()
    page.get_by_test_id("new-decomposition").click()
    page.get_by_test_id("goal").fill("Regional reports, then one digest")
    page.get_by_test_id("input").fill("pattern: map_reduce\nparams: {items: []}\n")
    expect(page.get_by_test_id("invalid")).to_be_visible(timeout=VALIDATE_MS)
    expect(page.get_by_test_id("task-error")).to_contain_text("params.items")
    page.get_by_test_id("input").fill(MAP_REDUCE)
    expect(page.get_by_test_id("valid")).to_be_visible(timeout=VALIDATE_MS)
    expect(page.get_by_test_id("task-count")).to_have_text("4")
    expect(page.get_by_test_id("max-parallelism")).to_have_text("3")
    page.get_by_test_id("save-draft").click()  # kept unplanned, then reopened in the editor and planned

    expect(page.get_by_test_id("status")).to_have_text("draft")
    expect(page.get_by_test_id("draft-input")).to_contain_text("pattern: map_reduce")
    expect(page.get_by_test_id("execute")).to_have_count(0)
    page.get_by_test_id("edit-draft").click()
    expect(page.get_by_test_id("input")).to_have_value(MAP_REDUCE)
    expect(page.get_by_test_id("valid")).to_be_visible()
    page.get_by_test_id("plan").click()

    expect(page.get_by_test_id("status")).to_have_text("planned")
    expect(page.get_by_test_id("critical-path")).to_contain_text("map_1")
    expect(page.get_by_test_id("critical-path")).to_contain_text("reduce")
    expect(page.locator('g.dag-node[data-step="map_1"]')).to_have_attribute("data-status", "critical")
    expect(page.get_by_test_id("level-row")).to_have_count(2)
    estimate = page.get_by_test_id("execute-estimate")
    expect(estimate).not_to_have_text("$0.00")
    expect(page.get_by_test_id("basis")).to_contain_text("upper bound")
    page.get_by_test_id("execute").click()

    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    expect(page.locator('g.dag-node[data-step="reduce"]')).to_have_attribute("data-status", "succeeded")
