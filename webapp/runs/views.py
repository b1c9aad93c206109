"""/runs and /runs/<id>: the run list with bulk actions, and the live run page with its actions.

Every action is a CSRF-protected POST for operators that calls the same function as the API
(webapp/runs/actions.py, which audits it); a state conflict comes back as a flash message on the
page instead of an error page, since the operator only needs to look again. The run page polls a
block of its own template; once the run is finished that block is rendered without its trigger
(and answered with 286, htmx's "stop polling"), so a finished run costs no more requests.
"""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import Field, field_validator
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from webapp.api.inputs import MAX_DB_ID, DbId, Query, parse_query
from webapp.api.pagination import DEFAULT_LIMIT, encode_cursor
from webapp.clock import utcnow
from webapp.console.run_grid import GRID_RUNS, run_grid
from webapp.exceptions import Conflict, InvalidInput
from webapp.extensions import db, htmx
from webapp.fragments import polled, render_block
from webapp.runs import actions, pages
from webapp.runs.api import cursor_key
from webapp.runs.detail import run_page
from webapp.runs.models import WorkflowRun
from webapp.runs.service import get_run
from webapp.security import require_role
from webapp.users.models import User
from webapp.workflows.models import Workflow

bp = Blueprint("runs", __name__)
POLL_SECONDS = 2
MAX_BULK = 200
MAX_COMMENT = 2000
MAX_NOTE = 500
STOP_POLLING = 286


class RunFilters(Query):
    status: Literal[pages.STATUS_FILTERS] | None = None  # type: ignore[valid-type]
    workflow: str | None = Field(default=None, max_length=100)
    triggered_by: DbId | None = None
    range: Literal["1h", "24h", "7d", "30d", "today"] | None = None
    cursor: str | None = Field(default=None, max_length=500)
    live: str | None = Field(default=None, max_length=20)  # the event behind a live refresh (live.js)

    @field_validator("*", mode="before")
    @classmethod
    def empty_is_unset(cls, value):
        """The filter form sends every field; an empty one means "any"."""
        return None if value == "" else value


@bp.get("/runs")
@require_role("viewer")
def index():
    filters = parse_query(RunFilters)
    query = pages.filtered_runs(status=filters.status, workflow=filters.workflow,
                                triggered_by=filters.triggered_by, since=pages.range_start(filters.range, utcnow()),
                                after=cursor_key(filters.cursor) if filters.cursor else None)
    rows = db.session.execute(query.options(joinedload(WorkflowRun.workflow)).limit(DEFAULT_LIMIT + 1)).scalars().all()
    runs = rows[:DEFAULT_LIMIT]
    next_cursor = encode_cursor((runs[-1].created_at.isoformat(), runs[-1].id)) if len(rows) > DEFAULT_LIMIT else None
    kept = filters.model_dump(exclude={"cursor", "live"}, exclude_none=True)
    context = dict(
        runs=runs, filters=filters, statuses=pages.STATUS_FILTERS,
        step_counts=pages.step_counts([run.id for run in runs]),
        next_url=url_for("runs.index", **kept, cursor=next_cursor) if next_cursor else None,
        live_url=url_for("runs.index", **kept, cursor=filters.cursor),
        workflows=db.session.execute(select(Workflow.slug).order_by(Workflow.slug)).scalars().all(),
        users=dict(db.session.execute(select(User.id, User.email).order_by(User.email)).all()),
        grid=run_grid(filters.workflow), grid_runs=GRID_RUNS, poll_seconds=current_app.config["HEALTH_POLL_SECONDS"])
    if htmx:  # the live block, refreshed on run and step events (polled only while the stream is down)
        return polled(render_block("runs/list.html", "live", **context))
    return polled(render_template("runs/list.html", **context))


def posted_run_ids() -> list[int]:
    raw = request.form.getlist("run_id")
    if len(raw) > MAX_BULK:
        raise InvalidInput(f"Select at most {MAX_BULK} runs at a time.", details={"fields": {"run_id": "too many"}})
    try:
        run_ids = sorted({int(value) for value in raw})
    except ValueError:
        run_ids = [0]
    if any(not 1 <= run_id <= MAX_DB_ID for run_id in run_ids):
        raise InvalidInput("Run ids must be positive whole numbers.", details={"fields": {"run_id": "not an id"}})
    return run_ids


@bp.post("/runs/bulk")
@require_role("operator")
def bulk():
    """First POST shows what will happen; the confirmation's POST (``confirm=1``) does it."""
    action, run_ids = request.form.get("action", ""), posted_run_ids()
    if not run_ids:
        flash("Select at least one run.", "error")
        return redirect(url_for("runs.index"))
    if request.form.get("confirm") != "1":
        return render_template("runs/bulk_confirm.html", plan=pages.plan_bulk(action, run_ids))
    done, refused = pages.perform_bulk(action, run_ids, current_user._get_current_object())
    verb = "Cancelled" if action == "cancel" else "Retried"
    flash(f"{verb} {len(done)} run(s): {', '.join(map(str, done)) or 'none'}.", "info")
    for run_id, reason in refused:
        flash(f"Run {run_id} was left alone: {reason}", "error")
    return redirect(url_for("runs.index"))


@bp.get("/runs/<int:run_id>")
@require_role("viewer")
def detail(run_id: int):
    context = {**run_page(get_run(run_id), utcnow()), "poll_seconds": POLL_SECONDS}
    if htmx:
        response = polled(render_block("runs/detail.html", "live", **context))
        if context["finished"]:
            response.status_code = STOP_POLLING
        return response
    return polled(render_template("runs/detail.html", **context))


def form_text(name: str, limit: int) -> str:
    text = request.form.get(name, "").strip()
    if len(text) > limit:
        raise InvalidInput(f"The {name} is longer than {limit} characters.", details={"fields": {name: "too long"}})
    return text


def act(run_id: int, perform, done: str):
    """Run one action; a state conflict becomes a message on the run page."""
    try:
        perform(current_user._get_current_object())
        flash(done, "info")
    except Conflict as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(url_for("runs.detail", run_id=run_id))


@bp.post("/runs/<int:run_id>/cancel")
@require_role("operator")
def cancel(run_id: int):
    return act(run_id, lambda actor: actions.cancel(run_id, actor), "Run cancelled.")


@bp.post("/runs/<int:run_id>/pause")
@require_role("operator")
def pause(run_id: int):
    note = form_text("note", MAX_NOTE)
    return act(run_id, lambda actor: actions.pause(run_id, actor, note),
               "Run paused: running steps finish, nothing new starts until you resume it.")


@bp.post("/runs/<int:run_id>/resume")
@require_role("operator")
def resume(run_id: int):
    return act(run_id, lambda actor: actions.resume(run_id, actor), "Run resumed.")


@bp.post("/runs/<int:run_id>/retry")
@require_role("operator")
def retry(run_id: int):
    return act(run_id, lambda actor: actions.retry_run(run_id, actor), "Failed steps are running again.")


@bp.post("/runs/<int:run_id>/steps/<step_id>/retry")
@require_role("operator")
def retry_step(run_id: int, step_id: str):
    return act(run_id, lambda actor: actions.retry_step(run_id, step_id, actor), f"Step {step_id} is running again.")


@bp.post("/runs/<int:run_id>/steps/<step_id>/decide")
@require_role("operator")
def decide(run_id: int, step_id: str):
    decision = request.form.get("decision")
    if decision not in ("approve", "reject"):
        raise InvalidInput("Choose approve or reject.", details={"fields": {"decision": "approve or reject"}})
    comment = form_text("comment", MAX_COMMENT)
    return act(run_id, lambda actor: actions.decide_gate(run_id, step_id, approved=decision == "approve",
                                                         comment=comment, actor=actor),
               f"Step {step_id} {'approved' if decision == 'approve' else 'rejected'}.")


@bp.post("/runs/<int:run_id>/checkpoints")
@require_role("operator")
def create_checkpoint(run_id: int):
    note = form_text("note", MAX_NOTE)
    return act(run_id, lambda actor: actions.create_checkpoint(run_id, note, actor), "Checkpoint taken.")


@bp.post("/runs/<int:run_id>/checkpoints/<int:checkpoint_id>/restore")
@require_role("operator")
def restore(run_id: int, checkpoint_id: int):
    return act(run_id, lambda actor: actions.resume(run_id, actor, checkpoint_id),
               "Run resumed from the checkpoint.")


def time_text(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


bp.add_app_template_filter(time_text, "utc")
