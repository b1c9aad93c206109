"""axe-core on every console page, as a viewer and as an admin, at 390 and 1,440 px: no serious
or critical violation. axe is vendored for the tests only (scripts/vendor_axe.sh)."""
from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_console_shell import without_event_stream
from tests.e2e.test_run_pages import start_run  # noqa: F401 (shared fixture)
from tests.e2e.test_users_admin import sign_in

AXE = (Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js").read_text()
BLOCKING = ("serious", "critical")


def violations(page: Page) -> list[str]:
    """Blocking axe findings on the page as it stands, one line each (rule, impact, first target)."""
    if not page.evaluate("() => Boolean(window.axe)"):
        page.evaluate(AXE)  # through the DevTools protocol, so the page's CSP does not apply
    found = page.evaluate("""async () => {
        const result = await axe.run(document, {resultTypes: ["violations"]});
        return result.violations.map(
            v => [v.id, v.impact, v.nodes.map(n => n.target.join(" ")).slice(0, 3).join(" | ")]);
    }""")
    return [f"{rule} ({impact}): {targets}" for rule, impact, targets in found if impact in BLOCKING]


def sidebar_pages(page: Page) -> list[str]:
    return page.evaluate("""() => Array.from(document.querySelectorAll('nav[aria-label="Main"] a'))
                                     .map(a => a.getAttribute("href"))""")


@pytest.fixture
def console_data(db, make_user, start_run):  # noqa: F811
    run_id = start_run({"name": "audited", "params": {"who": {"type": "string", "default": "Ada"}}, "steps": [
        {"id": "greet", "uses": "template.render", "with": {"template": "hello {{ params.who }}"}},
        {"id": "review", "uses": "gate.approval", "needs": ["greet"], "with": {"prompt": "Ship it?"}}]})
    failed_step_with_logs(db, run_id)
    return run_id, make_user("viewer", name="Someone Else")


def failed_step_with_logs(db, run_id: int) -> None:
    """The first step failed once with log lines, so the run page shows an unfolded attempt log."""
    from webapp.clock import utcnow
    from webapp.runs.models import StepAttempt, StepRun

    step = db.session.query(StepRun).filter_by(run_id=run_id, step_key="greet").one()
    step.status, step.error = "failed", "template exploded"
    logs = [{"ts": "2026-12-01T09:30:00.125Z", "level": level, "logger": "tests", "message": message}
            for level, message in (("info", "rendering"), ("warning", "slow template"), ("error", "boom"))]
    db.session.add(StepAttempt(run_id=run_id, step_run_id=step.id, attempt=1, status="failed",
                               error="template exploded", started_at=utcnow(), finished_at=utcnow(), logs=logs))
    db.session.commit()


@pytest.mark.parametrize("width", [390, 1440])
@pytest.mark.parametrize("role", ["viewer", "admin"])
def test_every_page_has_no_serious_accessibility_violation(browser: Browser, live_server, console_data, make_user,
                                                           role, width):
    run_id, other = console_data
    context = browser.new_context(viewport={"width": width, "height": 900})
    without_event_stream(context)
    page = context.new_page()
    sign_in(page, live_server, make_user(role).email)
    expect(page.get_by_role("heading", name="Overview")).to_be_visible()
    paths = sidebar_pages(page) + [f"/runs/{run_id}", "/runs?status=failed", "/workflows/audited",
                                   "/workflows/audited/versions"]
    if role == "admin":
        paths += [f"/users/{other.id}"]
    found = {}
    for path in dict.fromkeys(paths):
        response = page.goto(f"{live_server}{path}")
        assert response.status == 200, path
        problems = violations(page)
        if problems:
            found[path] = problems
    context.close()
    assert found == {}, "\n".join(f"{path}: {problem}" for path, problems in found.items() for problem in problems)


@pytest.mark.parametrize("path", ["/login", "/register"])
def test_the_sign_in_pages_have_no_serious_accessibility_violation(page: Page, live_server, path):
    without_event_stream(page)
    page.goto(f"{live_server}{path}")
    assert violations(page) == []


def test_the_invitation_page_has_no_serious_accessibility_violation(page: Page, live_server, db, make_user):
    import re

    from webapp.mail.models import OutboxMail
    from webapp.users import invites

    invites.invite(make_user("admin"), "a11y.invite@example.com", name="", role="viewer")
    token = re.search(r"/invite/(\S+)", db.session.query(OutboxMail).one().body).group(1)
    without_event_stream(page)
    for path in (f"/invite/{token}", "/invite/not-a-token"):
        page.goto(f"{live_server}{path}")
        assert violations(page) == [], path
