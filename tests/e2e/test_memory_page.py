"""/memory in Chromium: the hit rates move (without a reload) after a cached run; an admin
flushes a namespace after confirming."""
from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.test_run_pages import start_run, worker  # noqa: F401, F811 (shared fixtures)
from tests.e2e.test_users_admin import sign_in
from tests.integration.runs.conftest import wait_for_run

CACHED = {"name": "cached-summary", "steps": [
    {"id": "ask", "uses": "llm.complete", "cache": {"ttl": 3600},
     "with": {"model": "local-small", "prompt": "Summarize the memory page in one line."}}]}
POLL_MS = 15_000


def test_hit_rates_move_after_a_cached_run_and_an_admin_flushes_memo(page: Page, live_server, worker, start_run,  # noqa: F811
                                                                      make_user, db):
    from webapp.memory import stats
    from webapp.memory.store import memory
    from webapp.runs import actions

    stats.reset(memory().redis)
    admin = make_user("admin")
    first = wait_for_run(start_run(CACHED))
    assert first.status == "succeeded"

    sign_in(page, live_server, admin.email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    page.goto(f"{live_server}/memory")
    l2_hits = page.get_by_test_id("hits-l2")
    before = l2_hits.inner_text()
    expect(page.locator('tr[data-namespace="memo"]')).to_contain_text("1")

    second = wait_for_run(actions.trigger_run("cached-summary", {}, admin)[0].id)
    assert second.step("ask").cache_hit
    expect(l2_hits).not_to_have_text(before, timeout=POLL_MS)  # the polled cards, no reload
    expect(page.get_by_test_id("overall-hit-rate")).not_to_have_text("—")

    page.locator('tr[data-namespace="memo"] a').click()
    expect(page.get_by_role("heading", name="memo")).to_be_visible()
    page.get_by_test_id("flush").click()
    page.get_by_test_id("confirm-flush").click()
    expect(page.get_by_role("alert")).to_contain_text("Flushed memo: 1 entry deleted from every tier.")
    expect(page.locator('tr[data-namespace="memo"]')).to_have_count(0)
