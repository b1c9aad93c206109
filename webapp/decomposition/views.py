"""``/decompositions``: the list, the new page with live validation, and a decomposition's plan.

The new page saves the plan or, with *Save as draft*, keeps the input as written, valid or not;
a draft opens again in the same editor (``/<id>/edit``) and saving its plan plans it.

The new page posts its form to ``validate`` as the operator types (htmx, debounced) and gets
back the ``validation`` block of its own template: the problems by task, or the graph and the
plan's figures. The detail page draws the DAG with the critical path highlighted, the level
table and the estimates with their basis; *Execute* shows the estimate next to the budgets the
run will draw on (the global ones and the operator's own; the workflow does not exist yet).
"""
from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.api.inputs import MAX_DB_ID
from webapp.clock import utcnow
from webapp.console.dag_svg import render_svg
from webapp.costs.ledger import ZERO, applicable_budgets, usage_of
from webapp.costs.periods import period_start
from webapp.costs.scopes import budget_label
from webapp.decomposition import service
from webapp.decomposition.patterns import pattern_names
from webapp.decomposition.strategies import strategy_names
from webapp.errors import status_for
from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.fragments import render_block
from webapp.security import require_role
from webapp.workflows.pages import format_duration

bp = Blueprint("decompositions", __name__, url_prefix="/decompositions")
PAGE_SIZE = 50
STARTER = """pattern: map_reduce
params:
  items: [alpha, beta, gamma, delta]
  map: {uses: template.render, with: {template: "Summary of {{ item }}"}}
  reduce: {uses: template.render, with: {template: "Digest: {{ outputs }}"}}
"""
STARTER_GOAL = "Summarise these documents and write a digest"


@bp.context_processor
def formatters() -> dict[str, Any]:
    return {"seconds": lambda value: format_duration(timedelta(seconds=value))}


def graph(steps: list[dict[str, Any]], plan: dict[str, Any]):
    """The DAG with each task on the critical path drawn as ``critical``."""
    return render_svg(steps, {task_id: "critical" for task_id in plan["critical_path"]})


def check(goal: str, strategy: str, text: str) -> dict[str, Any] | None:
    """What the validation block shows for the form's current values; None before any input."""
    if not text.strip() and strategy != "llm":
        return None
    try:
        analysis = service.analyse(goal, strategy, text or {})
    except DomainError as error:  # 413: the text is over WORKFLOW_MAX_DEFINITION_BYTES
        return {"valid": False, "errors": [{"task": None, "field": "input", "message": error.message}]}
    errors = [error.to_dict() for error in analysis.errors]
    return {"valid": not errors, "errors": errors, "plan": analysis.plan,
            "graph": graph(analysis.steps, analysis.plan) if analysis.plan else None}


def new_page(goal: str, strategy: str, text: str, *, problem: str | None = None, status: int = 200,
             draft_id: int | None = None):
    return render_template("decompositions/new.html", goal=goal, strategy=strategy, text=text, problem=problem,
                           strategies=strategy_names(), patterns=pattern_names(), draft_id=draft_id,
                           check=check(goal, strategy, text)), status


@bp.get("")
@require_role("viewer")
def index():
    before = request.args.get("before", type=int)
    rows = service.list_recent(before=before if before and 0 < before <= MAX_DB_ID else None, limit=PAGE_SIZE)
    items, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return render_template("decompositions/list.html", decompositions=items,
                           next_before=items[-1].id if more else None)


@bp.get("/new")
@require_role("operator")
def new():
    return new_page(STARTER_GOAL, "template", STARTER)


@bp.post("/new")
@require_role("operator")
def create():
    """Save the plan (a new decomposition, or the draft being edited, planned), or save a draft."""
    goal, strategy, text = (request.form.get(name, "") for name in ("goal", "strategy", "input"))
    draft_id = request.form.get("draft_id", type=int)
    as_draft = request.form.get("action") == "draft"
    actor = current_user._get_current_object()
    try:
        if draft_id is not None:
            service.edit_draft(draft_id, goal, strategy, text or {}, actor=actor)
            db.session.commit()  # the edit is kept even if the plan below finds problems
            decomposition = service.get(draft_id) if as_draft else service.plan_draft(draft_id, actor=actor)
        else:
            decomposition = service.create(goal, strategy, text or {}, actor=actor, draft=as_draft)
    except DomainError as error:
        db.session.rollback()
        return new_page(goal, strategy, text, problem=error.message, status=status_for(error), draft_id=draft_id)
    db.session.commit()
    return redirect(url_for("decompositions.detail", decomposition_id=decomposition.id))


@bp.get("/<int:decomposition_id>/edit")
@require_role("operator")
def edit(decomposition_id: int):
    """A draft in the new page's editor; anything else is shown as it is."""
    decomposition = service.get(decomposition_id)
    if decomposition.status != "draft":
        return redirect(url_for("decompositions.detail", decomposition_id=decomposition_id))
    return new_page(decomposition.goal, decomposition.strategy, draft_text(decomposition), draft_id=decomposition.id)


def draft_text(decomposition) -> str:
    """The draft's input as the editor shows it: the text as typed, or the object as JSON."""
    given = service.input_of(decomposition)
    return given if isinstance(given, str) else json.dumps(given, indent=2, ensure_ascii=False)


@bp.post("/validate")
@require_role("operator")
def validate():
    goal, strategy, text = (request.form.get(name, "") for name in ("goal", "strategy", "input"))
    return render_block("decompositions/new.html", "validation", check=check(goal, strategy, text))


def budgets_for(user) -> list[dict[str, Any]]:
    """The budgets a run started by ``user`` draws on now, with what is left of each."""
    rows = []
    for budget in applicable_budgets(None, getattr(user, "id", None)):
        spent, reserved = usage_of(budget, period_start(budget.period, utcnow()))
        rows.append({"label": budget_label(budget), "policy": budget.on_exceed, "currency": budget.currency,
                     "remaining": max(budget.limit - spent - reserved, ZERO), "limit": budget.limit})
    return rows


def detail_page(decomposition, *, problem: str | None = None, status: int = 200):
    if decomposition.status == "draft":
        return render_template("decompositions/detail.html", decomposition=decomposition, problem=problem,
                               draft_text=draft_text(decomposition)), status
    plan = decomposition.plan
    return render_template("decompositions/detail.html", decomposition=decomposition, plan=plan,
                           graph=graph(service.steps_of(decomposition), plan), problem=problem,
                           budgets=budgets_for(current_user), critical=set(plan["critical_path"])), status


@bp.get("/<int:decomposition_id>")
@require_role("viewer")
def detail(decomposition_id: int):
    return detail_page(service.get(decomposition_id))


@bp.post("/<int:decomposition_id>/execute")
@require_role("operator")
def execute(decomposition_id: int):
    name = request.form.get("name", "").strip() or None
    try:
        decomposition = service.execute(decomposition_id, current_user._get_current_object(), name=name)
    except DomainError as error:
        db.session.rollback()
        return detail_page(service.get(decomposition_id), problem=error.message, status=status_for(error))
    return redirect(url_for("runs.detail", run_id=decomposition.run_id))
