"""The workflow editor in Chromium against gunicorn and a real `flask worker`: write a
definition, see the live validation, save, trigger from the generated form, watch it succeed."""
from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from tests.e2e.test_run_pages import FINISH_MS, worker  # noqa: F401  (the shared real-worker fixture)
from tests.e2e.test_users_admin import sign_in

VALID = """name: Editor journey
description: Made in the browser.
params:
  who: {type: string, required: true}
  times: {type: integer, default: 2}
steps:
  - id: greet
    uses: template.render
    with: {template: "Hello {{ params.who }}"}
  - id: shout
    uses: template.render
    needs: [greet]
    with: {template: "{{ params.who }} x {{ params.times }}"}
"""
CYCLIC = VALID.replace("    uses: template.render\n    with: {template: \"Hello",
                       "    uses: template.render\n    needs: [shout]\n    with: {template: \"Hello")


def type_definition(page: Page, text: str) -> None:
    """Replace the editor's text and release a key, which is what fires the debounced htmx check."""
    editor = page.get_by_test_id("definition")
    editor.fill(text)
    editor.press("End")


def test_operator_writes_fixes_saves_triggers_and_watches_a_workflow_succeed(page: Page, live_server, worker,  # noqa: F811
                                                                            make_user):
    assert CYCLIC != VALID
    sign_in(page, live_server, make_user("operator").email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.get_by_role("link", name="Workflows").click()
    page.get_by_test_id("new-workflow").click()

    type_definition(page, CYCLIC)
    cycle = page.locator('[data-testid="step-error"]', has_text="needs form a cycle")
    expect(cycle).to_be_visible()
    expect(cycle).to_have_attribute("data-step", re.compile(r"^(greet|shout)$"))

    type_definition(page, VALID)
    expect(page.get_by_test_id("valid")).to_be_visible()
    expect(page.get_by_test_id("step-error")).to_have_count(0)
    expect(page.locator('#validation g.dag-node[data-step="shout"]')).to_be_visible()
    page.get_by_test_id("save").click()

    expect(page).to_have_url(f"{live_server}/workflows/editor-journey")
    expect(page.get_by_text("Made in the browser.")).to_be_visible()
    expect(page.locator("#param-times")).to_have_value("2")
    page.locator("#param-who").fill("Ada")
    page.locator("#param-times").fill("3")
    page.get_by_test_id("trigger").click()

    expect(page).to_have_url(re.compile(rf"^{re.escape(live_server)}/runs/\d+$"))
    page.evaluate("window.loadedOnce = true")  # a reload would forget this
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)
    assert page.evaluate("window.loadedOnce === true")
