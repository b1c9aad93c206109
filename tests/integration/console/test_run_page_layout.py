"""The run page's layout: a gate banner with its prompt, a progress bar coloured per step, a
compact step table of folded rows, and checkpoints folded unless they are the way out."""
from __future__ import annotations

import re
from datetime import timedelta


def progress(html: str) -> list[tuple[str, str]]:
    bar = html.split('<svg class="progress-bar"')[1].split("</svg>")[0]
    return re.findall(r'class="progress-step status-(\w+)" data-step="(\w+)"', bar)


def test_a_failed_run_is_never_a_solid_green_bar(client, login_as, make_run):
    run = make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("viewer")
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert progress(html) == [("succeeded", "fetch"), ("failed", "check"), ("skipped", "approve")]


def test_steps_not_started_leave_the_track_empty(client, login_as, make_run):
    run = make_run("running", ["succeeded", "running", "pending"])
    login_as("viewer")
    assert progress(client.get(f"/runs/{run.id}").get_data(as_text=True)) == [
        ("succeeded", "fetch"), ("running", "check")]


def test_a_waiting_gate_shows_its_prompt_and_decision_at_the_top(client, login_as, make_run):
    run = make_run("paused", ["succeeded", "succeeded", "waiting_approval"])
    login_as("operator")
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    banner = html.split('data-testid="gate-approve"')[1].split("</section>")[0]
    assert "Ship it?" in banner
    assert 'data-testid="approve-approve"' in banner and 'data-testid="reject-approve"' in banner
    assert 'name="comment"' in banner
    assert html.index('data-testid="gate-approve"') < html.index('aria-label="Graph"')


def test_a_viewer_sees_the_gate_prompt_without_the_buttons(client, login_as, make_run):
    run = make_run("paused", ["succeeded", "succeeded", "waiting_approval"])
    login_as("viewer")
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert "Ship it?" in html and 'data-testid="approve-approve"' not in html


def test_failed_steps_open_and_the_others_stay_folded(client, login_as, make_run):
    run = make_run("failed", ["succeeded", "failed", "skipped"])
    login_as("viewer")
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    rows = dict(re.findall(r'<details id="step-(\w+)" class="step"[^>]*?data-status="\w+"\s*(open)?', html))
    assert rows == {"fetch": "", "check": "open", "approve": ""}


def test_the_header_says_duration_cost_and_who_triggered_it(client, login_as, make_run, make_user):
    from decimal import Decimal

    from webapp.extensions import db

    who = make_user("operator", name="Grace")
    run = make_run("succeeded", triggered_by=who.id, ago=timedelta(minutes=3))
    run.cost_total = Decimal("0.0375")
    db.session.commit()
    login_as("viewer")
    html = client.get(f"/runs/{run.id}").get_data(as_text=True)
    assert re.search(r'data-testid="run-duration">9\.0 s<', html)
    assert 'data-testid="run-cost">$0.0375<' in html
    assert f"<bdi>{who.email}</bdi>" in html


def test_checkpoints_are_folded_unless_an_operator_can_resume_from_them(client, login_as, make_run):
    from webapp.extensions import db
    from webapp.runs.models import Checkpoint

    done = make_run("succeeded")
    failed = make_run("failed", ["succeeded", "failed", "skipped"])
    for run in (done, failed):
        db.session.add(Checkpoint(run_id=run.id, seq=1, steps={"fetch": run.steps[0].id}))
    db.session.commit()
    login_as("operator")
    folded = client.get(f"/runs/{done.id}").get_data(as_text=True)
    assert re.search(r'<details class="checkpoints" id="checkpoints" aria-label="Checkpoints"\s*>', folded)
    unfolded = client.get(f"/runs/{failed.id}").get_data(as_text=True)
    assert re.search(r'<details class="checkpoints" id="checkpoints" aria-label="Checkpoints"\s*open>', unfolded)
