"""The workflow editor in Chromium against gunicorn and a real `flask worker`: write a
definition, see the live validation, save, trigger from the generated form, watch it succeed;
errors marked on their lines in CodeMirror, fixed and saved from the keyboard alone; the failed
check of an oversized draft, a taken name, and the plain textarea when CodeMirror cannot load."""
from __future__ import annotations

import json
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
    """Replace the CodeMirror editor's text from the keyboard (select all, then type over it)."""
    page.get_by_test_id("definition-editor").focus()
    page.keyboard.press("ControlOrMeta+A")
    page.keyboard.insert_text(text)


def line_of(page: Page, number: int):
    return page.locator(".cm-content .cm-line").nth(number - 1)


def watch_csp(page: Page) -> list[str]:
    """Console messages that report a Content-Security-Policy refusal."""
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if "Content Security Policy" in message.text
            else None)
    return refused


def test_operator_writes_fixes_saves_triggers_and_watches_a_workflow_succeed(page: Page, live_server, worker,  # noqa: F811
                                                                            make_user):
    assert CYCLIC != VALID
    sign_in(page, live_server, make_user("operator").email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{live_server}/workflows")
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


BAD_ID = """name: Keyboard journey
steps:
  - id: first
    uses: template.render
    with: {template: "one"}
  - id: get-it
    uses: template.render
    needs: [first]
    with: {template: "two"}
"""


def test_keyboard_only_error_marked_on_its_line_fixed_banner_cleared_and_saved(page: Page, live_server, make_user):
    refused = watch_csp(page)
    sign_in(page, live_server, make_user("operator").email)
    page.goto(f"{live_server}/workflows/new")
    expect(page.locator(".cm-editor .cm-gutters")).to_be_visible()  # CodeMirror replaced the textarea
    expect(page.get_by_test_id("definition")).to_be_hidden()

    # CodeMirror loads its styles without breaking the CSP. (Text inserted over a selection later
    # makes Chromium's own contenteditable editing try a style attribute, which the CSP blocks;
    # CodeMirror redraws from its state, so that refusal changes nothing and is not ours.)
    assert refused == []
    type_definition(page, BAD_ID)
    expect(page.get_by_test_id("step-error")).to_have_attribute("data-line", "6")
    expect(line_of(page, 6).locator(".cm-lintRange-error")).to_have_count(1)
    expect(page.locator(".cm-lint-marker-error")).to_have_count(1)
    expect(page.get_by_test_id("step-error")).to_contain_text("'get-it' is not a valid step id")

    page.keyboard.press("ControlOrMeta+S")  # save while invalid: the server refuses it
    expect(page.get_by_test_id("save-problem")).to_contain_text("1 problem(s)")
    expect(line_of(page, 6).locator(".cm-lintRange-error")).to_have_count(1)  # marked again after the reload

    goto = page.get_by_role("button", name="Go to line 6")
    goto.focus()
    page.keyboard.press("Enter")  # selects line 6 in the editor and focuses it
    expect(page.get_by_test_id("definition-editor")).to_be_focused()
    page.keyboard.insert_text("  - id: get_it")
    expect(page.get_by_test_id("valid")).to_be_visible()
    expect(page.get_by_test_id("save-problem")).to_have_count(0)
    expect(page.locator(".cm-lintRange-error")).to_have_count(0)
    expect(page.locator('#validation g.dag-node[data-step="get_it"]')).to_be_visible()

    page.keyboard.press("ControlOrMeta+S")
    expect(page).to_have_url(f"{live_server}/workflows/keyboard-journey")


def test_yaml_and_json_are_highlighted_and_the_reference_lists_inputs(page: Page, live_server, make_user):
    sign_in(page, live_server, make_user("operator").email)
    page.goto(f"{live_server}/workflows/new")
    expect(line_of(page, 1).locator("span").first).to_be_visible()  # the starter YAML is tokenised
    type_definition(page, '{"name": "j", "steps": []}')
    expect(line_of(page, 1).locator("span", has_text='"name"')).to_have_count(1)
    reference = page.get_by_test_id("step-reference")
    reference.locator('details[data-kind="http.request"] summary').click()
    expect(reference.locator('details[data-kind="http.request"]')).to_contain_text("url")


def test_a_draft_over_the_body_limit_shows_an_error_instead_of_a_stale_valid(page: Page, live_server, make_user):
    sign_in(page, live_server, make_user("operator").email)
    page.goto(f"{live_server}/workflows/new")
    type_definition(page, VALID)
    expect(page.get_by_test_id("valid")).to_be_visible()
    page.evaluate("""() => {
        const host = document.querySelector(".code-editor").shadowRoot;
        const view = FlowdeckCodeMirror.EditorView.findFromDOM(host.querySelector(".cm-editor"));
        view.dispatch({changes: {from: view.state.doc.length, insert: "\\n#" + "x".repeat(600 * 1024)}});
    }""")
    expect(page.get_by_test_id("check-failed")).to_contain_text("a definition may be at most")
    expect(page.get_by_test_id("valid")).to_have_count(0)
    page.get_by_test_id("save").click()  # refused in the page: a 413 page would lose the draft
    expect(page.get_by_test_id("check-failed")).to_contain_text("Shorten it before saving")
    expect(page).to_have_url(f"{live_server}/workflows/new")


def test_a_taken_name_links_to_the_editor_of_the_existing_workflow(page: Page, live_server, make_user, db):
    from webapp.workflows import service
    service.create_workflow({"name": "Taken name", "steps": [{"id": "a", "uses": "template.render",
                                                              "with": {"template": "x"}}]})
    db.session.commit()
    sign_in(page, live_server, make_user("operator").email)
    page.goto(f"{live_server}/workflows/new")
    type_definition(page, 'name: Taken name\nsteps:\n  - {id: b, uses: template.render, with: {template: y}}\n')
    expect(page.get_by_test_id("name-taken")).to_be_visible()
    page.get_by_test_id("edit-taken").click()
    expect(page).to_have_url(f"{live_server}/workflows/taken-name/edit")


def test_without_codemirror_the_plain_textarea_still_validates(page: Page, live_server, make_user):
    page.route("**/vendor/codemirror/codemirror.min.js", lambda route: route.abort())
    sign_in(page, live_server, make_user("operator").email)
    page.goto(f"{live_server}/workflows/new")
    textarea = page.get_by_test_id("definition")
    expect(textarea).to_be_visible()
    expect(page.locator(".cm-editor")).to_have_count(0)
    textarea.fill(CYCLIC)
    textarea.press("End")
    expect(page.locator('[data-testid="step-error"]', has_text="needs form a cycle")).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Go to line")).first.click()
    expect(textarea).to_be_focused()


def big_definition(size: int = 200) -> str:
    steps = [{"id": f"s{i}", "uses": "template.render", "with": {"template": "x"},
              "needs": [f"s{j}" for j in (i - 10 - i % 3, i - 13, i - 27) if j >= 0]} for i in range(size)]
    return json.dumps({"name": "Two hundred", "steps": steps})


def test_a_200_step_graph_is_panned_and_zoomed_from_the_keyboard(page: Page, live_server, make_user):
    sign_in(page, live_server, make_user("operator").email)
    page.goto(f"{live_server}/workflows/new")
    page.get_by_test_id("definition-editor").focus()
    page.evaluate("""(text) => {
        const host = document.querySelector(".code-editor").shadowRoot;
        const view = FlowdeckCodeMirror.EditorView.findFromDOM(host.querySelector(".cm-editor"));
        view.dispatch({changes: {from: 0, to: view.state.doc.length, insert: text}});
    }""", big_definition())
    expect(page.get_by_test_id("valid")).to_be_visible()
    viewport = page.locator("#validation .dag-view")
    expect(viewport.locator("g.dag-node")).to_have_count(200)
    zoom = page.get_by_label("Zoom level")
    expect(zoom).to_have_text("75%")  # too big to fit: shown at a readable scale, panned by scrolling
    svg = viewport.locator("svg.dag")
    natural = float(svg.evaluate("s => s.viewBox.baseVal.width"))
    viewport.focus()
    page.keyboard.press("+")
    expect(zoom).to_have_text("94%")
    assert abs(float(svg.get_attribute("width")) - natural * 0.9375) <= 1
    page.keyboard.press("1")
    expect(zoom).to_have_text("100%")
    before = viewport.evaluate("v => v.scrollLeft")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_function("([v, x]) => v.scrollLeft > x", arg=[viewport.element_handle(), before])
    page.keyboard.press("0")  # fit the whole graph
    expect(zoom).not_to_have_text("100%")
    assert float(svg.get_attribute("width")) <= viewport.evaluate("v => v.clientWidth")
