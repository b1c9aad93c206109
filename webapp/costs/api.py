"""``/api/v3`` costs, budgets, prices and estimates (JSON). Viewers read; admins write.

Every write is audited and published in the same transaction as the change, and commits here.
"""
from __future__ import annotations

from flask import Blueprint, jsonify
from flask_login import current_user

from webapp.api.inputs import Body, parse_body, parse_query
from webapp.api.pagination import decode_cursor, page, row_id, timestamp
from webapp.clock import utcnow
from webapp.costs import estimate, holds, prices, reports, service
from webapp.costs.schemas import BudgetBody, BudgetPatch, EstimateBody, PriceBody, RecordsQuery, SummaryQuery
from webapp.extensions import db
from webapp.runs.service import get_run, run_json
from webapp.security import require_role
from webapp.workflows.service import get_workflow

bp = Blueprint("costs_api", __name__)


def actor():
    return current_user._get_current_object()


@bp.get("/costs/summary")
@require_role("viewer")
def summary():
    """Spend, saved and runs grouped by day, workflow, user or model over [since, until)."""
    query = parse_query(SummaryQuery)
    return jsonify(reports.summary(query.group_by, reports.window(query.since, query.until)))


@bp.get("/costs/records")
@require_role("viewer")
def records():
    """Cost records newest first (cursor), filtered by run, workflow, user, model and time."""
    query = parse_query(RecordsQuery)
    before = decode_cursor(query.cursor, (timestamp, row_id)) if query.cursor else None
    rows = db.session.execute(reports.records_query(
        run_id=query.run, workflow=query.workflow, user_id=query.user, model=query.model, since=query.since,
        until=query.until, before=before).limit(query.limit + 1)).all()
    return jsonify(page(rows, query.limit, lambda row: (row[0].created_at.isoformat(), row[0].id),
                        reports.record_json))


@bp.get("/budgets")
@require_role("viewer")
def list_budgets():
    return jsonify({"items": [service.budget_json(b) for b in service.list_budgets()], "next_cursor": None})


@bp.post("/budgets")
@require_role("admin")
def create_budget():
    """Create a budget; ``scope_id`` is a workflow's slug or a user's id (none for global)."""
    body = parse_body(BudgetBody)
    budget = service.create_budget(**body.model_dump(), actor=actor())
    db.session.commit()
    return jsonify({"budget": service.budget_json(budget)}), 201


@bp.get("/budgets/<int:budget_id>")
@require_role("viewer")
def get_budget(budget_id: int):
    return jsonify({"budget": service.budget_json(service.get_budget(budget_id))})


@bp.patch("/budgets/<int:budget_id>")
@require_role("admin")
def update_budget(budget_id: int):
    """Change a budget; runs it paused continue once it has room for them."""
    body = parse_body(BudgetPatch)
    budget = service.update_budget(budget_id, body.changes(), actor=actor())
    db.session.commit()
    return jsonify({"budget": service.budget_json(budget)})


@bp.delete("/budgets/<int:budget_id>")
@require_role("admin")
def delete_budget(budget_id: int):
    """Delete a budget (its alerts go with it; the audit trail keeps its settings)."""
    service.delete_budget(budget_id, actor=actor())
    db.session.commit()
    return "", 204


@bp.get("/budgets/<int:budget_id>/alerts")
@require_role("viewer")
def budget_alerts(budget_id: int):
    return jsonify({"items": [service.alert_json(a) for a in service.alerts_of(budget_id)], "next_cursor": None})


@bp.get("/budgets/<int:budget_id>/usage")
@require_role("viewer")
def budget_usage(budget_id: int):
    """The current period: start, spent, reserved, limit and remaining."""
    return jsonify(service.usage(service.get_budget(budget_id)))


@bp.get("/prices")
@require_role("viewer")
def list_prices():
    """Every price row (LLM_PRICES rows have source "setting"), newest first per model."""
    return jsonify({"items": [prices.price_json(row) for row in prices.price_table()], "next_cursor": None})


@bp.post("/prices")
@require_role("admin")
def add_price():
    """Add a dated price per 1,000 tokens; it applies to steps starting at or after effective_from."""
    body = parse_body(PriceBody)
    price = prices.add_price(body.model, body.input, body.output, body.effective_from or utcnow(),
                             currency=body.currency, actor=actor())
    db.session.commit()
    return jsonify({"price": prices.price_json(prices.row_of(price))}), 201


@bp.post("/workflows/<slug>/estimate")
@require_role("viewer")
def estimate_run(slug: str):
    """The run's upper-bound cost and its likely cost from past runs, for these params."""
    body = parse_body(EstimateBody)
    return jsonify({"estimate": estimate.estimate_run(get_workflow(slug), body.params)})


@bp.get("/runs/<int:run_id>/budget")
@require_role("viewer")
def run_budget(run_id: int):
    """The budgets holding a paused run, and the run's spend per step."""
    run = get_run(run_id)
    return jsonify({"run_id": run.id, "holds": [holds.hold_json(h) for h in holds.active_holds(run.id)],
                    "cost_by_step": reports.spend_by_step(run.id)})


@bp.post("/runs/<int:run_id>/resume-over-budget")
@require_role("admin")
def resume_over_budget(run_id: int):
    """Let a budget-paused run continue past its budgets for this period (audited)."""
    parse_body(Body)
    holds.resume_over_budget(run_id, actor=actor())
    db.session.commit()
    return jsonify({"run": run_json(get_run(run_id))})
