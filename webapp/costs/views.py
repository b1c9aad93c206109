"""/costs: the cost dashboard, the records behind it, CSV export, budgets and prices.

Viewers read everything; admins create, change and delete budgets, add prices and resume a
budget-paused run over budget. Forms post back here and redirect to the page with a flash
message (a refused change says why, it is never a 500).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any, Literal

from flask import Blueprint, Response, flash, redirect, render_template, request, stream_with_context, url_for
from flask_login import current_user
from pydantic import Field, ValidationError, field_validator
from sqlalchemy import select

from webapp.api.inputs import DbId, Query, field_errors, parse_query
from webapp.api.pagination import DEFAULT_LIMIT, decode_cursor, encode_cursor, row_id, timestamp
from webapp.clock import utcnow
from webapp.costs import estimate, holds, ledger, prices, reports, service
from webapp.costs.budget_models import BudgetHold
from webapp.costs.schemas import BudgetBody, BudgetPatch, PriceBody, UtcTime
from webapp.exceptions import DomainError, InvalidInput
from webapp.extensions import db, htmx
from webapp.fragments import polled, render_block
from webapp.security import require_role
from webapp.users.models import User
from webapp.workflows.forms import read_trigger_form
from webapp.workflows.models import Workflow
from webapp.workflows.service import get_version, get_workflow

bp = Blueprint("costs", __name__)
RANGES = {"today": 1, "7d": 7, "30d": 30, "90d": 90}  # whole UTC days, today's included


class DashboardQuery(Query):
    range: Literal[tuple(RANGES)] = "7d"  # type: ignore[valid-type]
    stack: Literal["workflow", "model"] = "workflow"


class RecordsFilters(Query):
    run: DbId | None = None
    workflow: str | None = Field(default=None, max_length=100)
    user: DbId | None = None
    model: str | None = Field(default=None, max_length=100)
    since: UtcTime | None = None
    until: UtcTime | None = None
    cursor: str | None = Field(default=None, max_length=500)

    @field_validator("*", mode="before")
    @classmethod
    def empty_is_unset(cls, value):
        return None if value == "" else value


class ExportQuery(Query):
    range: Literal[tuple(RANGES)] = "7d"  # type: ignore[valid-type]


def span_of(range_name: str) -> reports.Window:
    """The last N UTC days up to the end of today: whole days, so the dashboard reads only the
    daily rollup, and the CSV export holds the very records the page sums (none is later than now)."""
    until = utcnow().replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return reports.Window(until - timedelta(days=RANGES[range_name]), until)


@bp.get("/costs")
@require_role("viewer")
def dashboard():
    query = parse_query(DashboardQuery)
    span = span_of(query.range)
    context = dashboard_context(query, span)
    if htmx:
        return polled(render_block("costs/dashboard.html", "budgets", **context))
    return render_template("costs/dashboard.html", **context)


def dashboard_context(query: DashboardQuery, span: reports.Window) -> dict[str, Any]:
    budgets = service.list_budgets()
    held = db.session.execute(select(BudgetHold.budget_id, BudgetHold.run_id)
                              .where(BudgetHold.status == "active").order_by(BudgetHold.id)).all()
    runs_held: dict[int, list[int]] = {}
    for budget_id, run_id in held:
        runs_held.setdefault(budget_id, []).append(run_id)
    return {
        "query": query, "ranges": list(RANGES), "span": span, **reports.dashboard(query.stack, span),
        "budgets": [(budget, service.usage(budget), service.budget_label(budget)) for budget in budgets],
        "runs_held": runs_held, "alerts": service.recent_alerts(),
        "budget_names": {budget.id: service.budget_label(budget) for budget in budgets},
        "workflows": db.session.scalars(select(Workflow.slug).where(Workflow.archived.is_(False))
                                        .order_by(Workflow.slug)).all(),
        "users": db.session.execute(select(User.id, User.email).order_by(User.email)).all(),
    }


@bp.get("/costs/records")
@require_role("viewer")
def records():
    filters = parse_query(RecordsFilters)
    before = decode_cursor(filters.cursor, (timestamp, row_id)) if filters.cursor else None
    rows = db.session.execute(reports.records_query(
        run_id=filters.run, workflow=filters.workflow, user_id=filters.user, model=filters.model,
        since=filters.since, until=filters.until, before=before).limit(DEFAULT_LIMIT + 1)).all()
    shown = [reports.record_json(row) for row in rows[:DEFAULT_LIMIT]]
    next_url = None
    if len(rows) > DEFAULT_LIMIT:
        last = rows[DEFAULT_LIMIT - 1][0]
        kept = filters.model_dump(exclude={"cursor"}, exclude_none=True)
        next_url = url_for("costs.records", **kept, cursor=encode_cursor((last.created_at.isoformat(), last.id)))
    return render_template("costs/records.html", records=shown, filters=filters, next_url=next_url)


@bp.get("/costs/export.csv")
@require_role("viewer")
def export_csv():
    """The period's cost records as CSV, streamed."""
    query = parse_query(ExportQuery)
    span = span_of(query.range)
    name = f"flowdeck-costs-{span.since:%Y%m%d}-{span.until:%Y%m%d}.csv"
    return Response(stream_with_context(reports.csv_lines(span)), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def posted(model, **fixed):
    """The form (without its CSRF token) validated by the API's model, text coerced to numbers."""
    data = {key: value for key, value in request.form.items() if key != "csrf_token" and value != ""}
    data.update(fixed)
    try:
        return model.model_validate(data, strict=False)
    except ValidationError as error:
        fields = field_errors(error)
        summary = "; ".join(f"{name}: {message}" for name, message in fields.items())
        raise InvalidInput(f"The form is not valid ({summary}).", details={"fields": fields}) from None


def form_action(action, success: str, back: str):
    try:
        action()
        db.session.commit()
        flash(success, "info")
    except DomainError as error:
        db.session.rollback()
        flash(error.message, "error")
    return redirect(back)


@bp.post("/costs/budgets")
@require_role("admin")
def create_budget():
    def create():
        body = posted(BudgetBody)
        service.create_budget(**body.model_dump(), actor=current_user._get_current_object())

    return form_action(create, "Budget created.", url_for("costs.dashboard") + "#budgets")


@bp.post("/costs/budgets/<int:budget_id>")
@require_role("admin")
def update_budget(budget_id: int):
    def update():
        service.update_budget(budget_id, posted(BudgetPatch).changes(), actor=current_user._get_current_object())

    return form_action(update, "Budget saved.", url_for("costs.dashboard") + "#budgets")


@bp.post("/costs/budgets/<int:budget_id>/delete")
@require_role("admin")
def delete_budget(budget_id: int):
    return form_action(lambda: service.delete_budget(budget_id, actor=current_user._get_current_object()),
                       "Budget deleted.", url_for("costs.dashboard") + "#budgets")


@bp.get("/costs/prices")
@require_role("viewer")
def price_table():
    return render_template("costs/prices.html", prices=prices.price_table(), now=utcnow())


@bp.post("/costs/prices")
@require_role("admin")
def add_price():
    def add():
        body = posted(PriceBody)
        prices.add_price(body.model, body.input, body.output, body.effective_from or utcnow(),
                         currency=body.currency, actor=current_user._get_current_object())

    return form_action(add, "Price added.", url_for("costs.price_table"))


@bp.post("/costs/runs/<int:run_id>/resume-over-budget")
@require_role("admin")
def resume_over_budget(run_id: int):
    return form_action(lambda: holds.resume_over_budget(run_id, actor=current_user._get_current_object()),
                       "The run continues over budget.", url_for("runs.detail", run_id=run_id))


@bp.app_template_global("run_budget")
def run_budget(run) -> dict[str, Any]:
    """For the run page: the holds on the run, and the budgets that apply to it with their usage."""
    budgets = ledger.applicable_budgets(run.workflow_id, run.triggered_by)
    return {"holds": [holds.hold_json(hold) for hold in holds.active_holds(run.id)],
            "budgets": [{"label": service.budget_label(budget), "on_exceed": budget.on_exceed, "period": budget.period,
                         "usage": service.usage(budget)} for budget in budgets]}


@bp.post("/costs/estimate/<slug>")
@require_role("viewer")
def estimate_fragment(slug: str):
    """The trigger form's estimate, for the params the form holds right now (read as Run reads them)."""
    workflow = get_workflow(slug)
    params, field_errors = read_trigger_form(get_version(workflow).definition.get("params", {}), request.form)
    result, error = None, "; ".join(f"{name} {message}" for name, message in field_errors.items()) or None
    if error is None:
        try:
            result = estimate.estimate_run(workflow, params)
        except DomainError as failure:
            result, error = None, failure.message
    return polled(render_template("costs/_estimate.html", estimate=result, error=error))
