"""``/api/v3/decompositions``: validate, plan, store and execute task trees (viewers read, operators act).

``validate`` is an operator's action too: with the ``llm`` strategy it asks the configured
provider, which may cost money and reaches outside.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user
from pydantic import Field

from webapp.api.inputs import Body, Query, parse_body, parse_query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page, row_id
from webapp.decomposition import service
from webapp.extensions import db
from webapp.runs.service import get_run, run_json
from webapp.security import require_role

bp = Blueprint("decompositions_api", __name__, url_prefix="/decompositions")


class DecompositionBody(Body):
    goal: str = Field(min_length=1, max_length=service.MAX_GOAL, description="What the tasks achieve together.")
    strategy: str = Field(min_length=1, max_length=40, description="explicit, template, llm, or a plugin's.")
    input: Any = Field(default=None, description="The strategy's input, as an object or JSON/YAML text: a tree "
                                                 '{"tasks": [...]}, {"pattern", "params"}, or {"model"}.')


class CreateBody(DecompositionBody):
    draft: bool = Field(default=False, description="Keep it as written, valid or not, with no tree and no plan: "
                                                   "PUT edits it, POST .../plan plans it.")


class ExecuteBody(Body):
    name: str | None = Field(default=None, min_length=1, max_length=200,
                             description="The generated workflow's name; decomp-<id> by default.")


class ListQuery(Query):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def summary(decomposition) -> dict[str, Any]:
    """A list row: the figures without the tree, which may hold hundreds of tasks."""
    data = service.to_dict(decomposition)
    plan = data.pop("plan") or {}
    del data["tree"], data["input"]
    data.update({key: plan.get(key) for key in ("task_count", "estimated_cost", "estimated_duration_s",
                                                 "max_parallelism")})
    return data


@bp.get("")
@require_role("viewer")
def list_decompositions():
    query = parse_query(ListQuery)
    before = None if query.cursor is None else decode_cursor(query.cursor, (row_id,))[0]
    rows = service.list_recent(before=before, limit=query.limit)
    return jsonify(page(rows, query.limit, key=lambda row: [row.id], render=summary))


@bp.post("")
@require_role("operator")
def create_decomposition():
    """201 with the tree and plan (``planned``), or with neither for ``"draft": true``."""
    body = parse_body(CreateBody)
    decomposition = service.create(body.goal, body.strategy, body.input, actor=current_user, draft=body.draft)
    db.session.commit()
    return jsonify({"decomposition": service.to_dict(decomposition)}), 201


@bp.put("/<int:decomposition_id>")
@require_role("operator")
def edit_draft(decomposition_id: int):
    """Replace a draft's goal, strategy and input; 409 once it is planned."""
    body = parse_body(DecompositionBody)
    decomposition = service.edit_draft(decomposition_id, body.goal, body.strategy, body.input, actor=current_user)
    db.session.commit()
    return jsonify({"decomposition": service.to_dict(decomposition)})


@bp.post("/<int:decomposition_id>/plan")
@require_role("operator")
def plan_draft(decomposition_id: int):
    """Plan a draft: 200 ``planned`` with tree and plan, or 422 with every error (it stays a draft)."""
    decomposition = service.plan_draft(decomposition_id, actor=current_user)
    db.session.commit()
    return jsonify({"decomposition": service.to_dict(decomposition)})


@bp.post("/validate")
@require_role("operator")
def validate_decomposition():
    """Build, check and plan without storing anything; problems come back as data."""
    body = parse_body(DecompositionBody)
    analysis = service.analyse(body.goal, body.strategy, body.input)
    return jsonify({"valid": not analysis.errors, "errors": [error.to_dict() for error in analysis.errors],
                    "tree": analysis.tree if not analysis.errors else None, "plan": analysis.plan})


@bp.get("/<int:decomposition_id>")
@require_role("viewer")
def get_decomposition(decomposition_id: int):
    return jsonify({"decomposition": service.to_dict(service.get(decomposition_id))})


@bp.get("/<int:decomposition_id>/plan")
@require_role("viewer")
def get_plan(decomposition_id: int):
    """The plan; ``null`` for a draft, which has none yet."""
    return jsonify({"plan": service.to_dict(service.get(decomposition_id))["plan"]})


@bp.post("/<int:decomposition_id>/execute")
@require_role("operator")
def execute_decomposition(decomposition_id: int):
    """202: the run has started; poll ``/api/v3/runs/<run_id>`` for its progress."""
    body = parse_body(ExecuteBody)
    decomposition = service.execute(decomposition_id, current_user, name=body.name)
    return jsonify({"decomposition": service.to_dict(decomposition),
                    "run": run_json(get_run(decomposition.run_id))}), 202
