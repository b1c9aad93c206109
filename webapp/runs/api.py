"""``/api/v3`` runs, step actions and checkpoints (JSON). Viewers read, operators act.

``POST /workflows/<slug>/runs`` lives here, not in the workflows blueprint, because triggering
is execution; the rest of ``/workflows`` belongs to webapp/workflows.
"""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from flask import Blueprint, jsonify
from flask_login import current_user
from pydantic import Field, field_validator
from sqlalchemy.orm import joinedload

from webapp.api.inputs import Body, DbId, Query, parse_body, parse_query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page, row_id, timestamp
from webapp.extensions import db
from webapp.runs import actions, service
from webapp.runs.models import WorkflowRun
from webapp.runs.pages import step_counts
from webapp.runs.states import RUN_STATES
from webapp.security import require_role
from webapp.workflows.models import WorkflowVersion

bp = Blueprint("runs_api", __name__)


class TriggerBody(Body):
    params: dict[str, Any] = Field(default_factory=dict)
    idempotency_key: str | None = Field(default=None, min_length=1, max_length=200)


class RunsQuery(Query):
    status: Literal[RUN_STATES] | None = None  # type: ignore[valid-type]
    workflow: str | None = Field(default=None, max_length=100)
    triggered_by: DbId | None = None
    since: datetime | None = None
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)

    @field_validator("since")
    @classmethod
    def utc_when_naive(cls, since: datetime | None) -> datetime | None:
        """``since=2026-01-01`` means midnight UTC; stored times are all aware UTC."""
        return since.replace(tzinfo=UTC) if since is not None and since.tzinfo is None else since


class ResumeBody(Body):
    checkpoint_id: DbId | None = None


class PauseBody(Body):
    reason: str = Field(default="", max_length=500)


class ApproveBody(Body):
    approved: bool
    comment: str = Field(default="", max_length=2000)


class CheckpointBody(Body):
    note: str = Field(default="", max_length=500)


def run_response(run, status: int = 200):
    return jsonify({"run": service.run_json(run)}), status


@bp.post("/workflows/<slug>/runs")
@require_role("operator")
def trigger_run(slug: str):
    body = parse_body(TriggerBody)
    run, created = actions.trigger_run(slug, body.params, current_user._get_current_object(), body.idempotency_key)
    return run_response(run, 202 if created else 200)


@bp.get("/runs")
@require_role("viewer")
def list_runs():
    """Runs newest first, each without its steps (counted in ``step_counts``).

    A page holds summaries, like the /runs page: every step with its output and attempts made
    a 50-run page about 150 KB and two dozen queries, and the API slower than the HTML page.
    ``GET /api/v3/runs/<id>`` has the steps.
    """
    query = parse_query(RunsQuery)
    after = cursor_key(query.cursor) if query.cursor else None
    rows = db.session.execute(service.runs_query(
        status=query.status, workflow=query.workflow, triggered_by=query.triggered_by,
        since=query.since, after=after, with_steps=False)
        # Only the version's number: its definition is a large JSON document per row.
        .options(joinedload(WorkflowRun.workflow), joinedload(WorkflowRun.version).load_only(WorkflowVersion.version))
        .limit(query.limit + 1)).scalars().all()
    counts = step_counts([run.id for run in rows[:query.limit]])

    def summary(run: WorkflowRun) -> dict:
        succeeded, total = counts.get(run.id, (0, 0))
        return {**service.run_summary_json(run), "step_counts": {"succeeded": succeeded, "total": total}}

    return jsonify(page(rows, query.limit, lambda run: (run.created_at.isoformat(), run.id), summary))


def cursor_key(cursor: str) -> tuple[datetime, int]:
    return decode_cursor(cursor, (timestamp, row_id))


@bp.get("/runs/<int:run_id>")
@require_role("viewer")
def get_run(run_id: int):
    return run_response(service.get_run(run_id))


@bp.post("/runs/<int:run_id>/cancel")
@require_role("operator")
def cancel_run(run_id: int):
    parse_body(Body)
    return run_response(actions.cancel(run_id, current_user._get_current_object()))


@bp.post("/runs/<int:run_id>/retry")
@require_role("operator")
def retry_run(run_id: int):
    parse_body(Body)
    return run_response(actions.retry_run(run_id, current_user._get_current_object()))


@bp.post("/runs/<int:run_id>/pause")
@require_role("operator")
def pause_run(run_id: int):
    body = parse_body(PauseBody)
    return run_response(actions.pause(run_id, current_user._get_current_object(), body.reason))


@bp.post("/runs/<int:run_id>/resume")
@require_role("operator")
def resume_run(run_id: int):
    body = parse_body(ResumeBody)
    return run_response(actions.resume(run_id, current_user._get_current_object(), body.checkpoint_id))


@bp.post("/runs/<int:run_id>/steps/<step_id>/retry")
@require_role("operator")
def retry_step(run_id: int, step_id: str):
    parse_body(Body)
    return run_response(actions.retry_step(run_id, step_id, current_user._get_current_object()))


@bp.post("/runs/<int:run_id>/steps/<step_id>/approve")
@require_role("operator")
def approve_step(run_id: int, step_id: str):
    body = parse_body(ApproveBody)
    return run_response(actions.decide_gate(run_id, step_id, approved=body.approved, comment=body.comment,
                                            actor=current_user._get_current_object()))


@bp.get("/runs/<int:run_id>/checkpoints")
@require_role("viewer")
def list_checkpoints(run_id: int):
    return jsonify({"items": [service.checkpoint_json(c) for c in service.checkpoints_of(run_id)], "next_cursor": None})


@bp.post("/runs/<int:run_id>/checkpoints")
@require_role("operator")
def create_checkpoint(run_id: int):
    body = parse_body(CheckpointBody)
    checkpoint = actions.create_checkpoint(run_id, body.note, current_user._get_current_object())
    return jsonify({"checkpoint": service.checkpoint_json(checkpoint)}), 201


@bp.get("/checkpoints/<int:checkpoint_id>")
@require_role("viewer")
def get_checkpoint(checkpoint_id: int):
    return jsonify({"checkpoint": service.checkpoint_json(service.get_checkpoint(checkpoint_id))})


@bp.post("/checkpoints/<int:checkpoint_id>/restore")
@require_role("operator")
def restore_checkpoint(checkpoint_id: int):
    parse_body(Body)
    checkpoint = service.get_checkpoint(checkpoint_id)
    return run_response(actions.resume(checkpoint.run_id, current_user._get_current_object(), checkpoint.id))


@bp.delete("/checkpoints/<int:checkpoint_id>")
@require_role("operator")
def delete_checkpoint(checkpoint_id: int):
    actions.delete_checkpoint(checkpoint_id, current_user._get_current_object())
    return "", 204
