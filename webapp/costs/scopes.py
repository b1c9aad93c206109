"""How budgets name what they cover: stored ids, spoken slugs and user ids, human labels."""
from __future__ import annotations

from sqlalchemy import select

from webapp.api.inputs import MAX_DB_ID
from webapp.costs.budget_models import Budget
from webapp.exceptions import InvalidInput
from webapp.extensions import db
from webapp.users.models import User
from webapp.workflows.models import Workflow


def resolve_scope(scope: str, scope_ref: str | int | None) -> int | None:
    """The stored id for ``scope_ref``; a reference that names nothing is a 422 on ``scope_id``."""
    if scope == "global":
        if scope_ref not in (None, ""):
            raise InvalidInput("A global budget has no scope_id.", details={"fields": {"scope_id": "must be empty"}})
        return None
    if scope == "workflow":
        workflow = db.session.scalar(select(Workflow).where(Workflow.slug == str(scope_ref)))
        if workflow is None:
            raise InvalidInput(f"There is no workflow {scope_ref!r}.",
                               details={"fields": {"scope_id": "must be an existing workflow's slug"}})
        return workflow.id
    user_id = scope_ref if isinstance(scope_ref, int) else int(scope_ref) if str(scope_ref or "").isdigit() else None
    if user_id is None or user_id > MAX_DB_ID or db.session.get(User, user_id) is None:
        raise InvalidInput(f"There is no user {scope_ref!r}.",
                           details={"fields": {"scope_id": "must be an existing user's id"}})
    return user_id


def scope_ref(budget: Budget) -> str | int | None:
    if budget.scope == "workflow":
        workflow = db.session.get(Workflow, budget.scope_id)
        return workflow.slug if workflow is not None else None
    return budget.scope_id


def scope_label(budget: Budget) -> str:
    if budget.scope == "global":
        return "everything"
    if budget.scope == "workflow":
        return f"workflow {scope_ref(budget)}"
    user = db.session.get(User, budget.scope_id)
    return f"user {user.email if user is not None else budget.scope_id}"


def budget_label(budget: Budget) -> str:
    return budget.name or f"{budget.period} budget for {scope_label(budget)}"
