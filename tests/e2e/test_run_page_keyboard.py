"""The run page with the keyboard only: skip to content, decide a gate, open a folded step row."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_console_shell import without_event_stream
from tests.e2e.test_run_pages import FINISH_MS, open_run, start_run, worker  # noqa: F401 (shared fixtures)


def tab_to(page: Page, selector: str, limit: int = 80) -> None:
    """Press Tab until the element matching ``selector`` has the focus."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if page.evaluate("(selector) => document.activeElement.matches(selector)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_an_operator_approves_a_gate_and_reads_a_step_with_the_keyboard_only(page: Page, live_server, worker,  # noqa: F811
                                                                             start_run, make_user):  # noqa: F811
    without_event_stream(page)
    run_id = start_run({"name": "keyed", "steps": [
        {"id": "draft", "uses": "template.render", "with": {"template": "draft {{ params.who }}"}},
        {"id": "review", "uses": "gate.approval", "needs": ["draft"], "with": {"prompt": "Publish {{ params.who }}?"}},
    ], "params": {"who": {"type": "string", "default": "Ada"}}})
    open_run(page, live_server, run_id, make_user("operator"))
    expect(page.get_by_test_id("gate-prompt-review")).to_have_text("Publish Ada?", timeout=FINISH_MS)

    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    tab_to(page, "#gate-comment-review")
    page.keyboard.type("approved from the keyboard")
    tab_to(page, '[data-testid="approve-review"]')
    page.keyboard.press("Enter")
    expect(page.get_by_role("alert")).to_have_text("Step review approved.")
    expect(page.get_by_test_id("run-status")).to_have_text("succeeded", timeout=FINISH_MS)

    step = page.get_by_test_id("step-draft")
    expect(step).not_to_have_attribute("open", "")
    tab_to(page, "#step-draft > summary")
    page.keyboard.press("Enter")
    expect(step).to_have_attribute("open", "")
    expect(page.get_by_test_id("output-draft")).to_be_visible()
    expect(page.get_by_test_id("output-draft")).to_contain_text("draft Ada")
