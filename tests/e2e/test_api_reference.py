"""/api/docs in Chromium: the vendored viewer renders the app's OpenAPI document under the
console's CSP, and an operator finds an operation with its role."""
from __future__ import annotations

from playwright.sync_api import Page, expect


def test_the_api_reference_renders_a_documented_operation_without_csp_violations(page: Page, live_server):
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: problems.append(str(error)))
    page.goto(f"{live_server}/api/docs")
    runs = page.locator("#operations-runs_api-api_runs_api_get_run")
    expect(runs).to_be_visible(timeout=20_000)
    runs.locator(".opblock-summary-path").click()
    opened = page.locator("#operations-runs_api-api_runs_api_get_run.is-open")
    expect(opened).to_contain_text("x-required-role", timeout=10_000)
    expect(opened).to_contain_text("viewer")
    expect(opened).to_contain_text("run_id")
    assert not [text for text in problems if "Content Security Policy" in text or "Refused" in text], problems
