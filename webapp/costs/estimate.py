"""What a run may cost before it starts: its upper bound, and its likely cost from history.

A step's upper bound is its kind's ``estimate_cost`` on the inputs rendered from the trigger's
params (for ``llm.complete``: the prompt's counted tokens at the input price plus
``max_tokens`` at the output price). A step whose inputs need an upstream step's output cannot
be rendered before the run: its bound is the most that step ever cost in this workflow's
succeeded runs, and the estimate says it is not exact. The likely cost is the sum of each
step's median cost over the workflow's recent succeeded runs (the upper bound where there is
no history yet). ``block`` budgets compare the upper bound at trigger.
"""
from __future__ import annotations

import statistics
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from webapp.clock import utcnow
from webapp.costs.ledger import ZERO, applicable_budgets, money_text, money_up, usage_of
from webapp.costs.periods import period_start
from webapp.costs.scopes import budget_label
from webapp.exceptions import BudgetExceeded
from webapp.extensions import db
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.steps.base import StepFailed
from webapp.steps.registry import get_kind
from webapp.workflows.models import Workflow
from webapp.workflows.service import get_version, validate_trigger_params
from webapp.workflows.templating import make_scope, render_inputs

HISTORY_RUNS = 50


def step_upper_bound(uses: str, with_: dict[str, Any], scope: dict[str, Any]) -> Decimal | None:
    """The kind's estimate on the rendered inputs; None when they cannot be rendered or priced."""
    kind = get_kind(uses)
    try:
        estimate = kind.estimate_cost(kind.parse_inputs(render_inputs(with_, scope)))
    except StepFailed:
        return None
    return money_up(estimate) if estimate else ZERO


def step_history(workflow_id: int, step_keys: list[str]) -> dict[str, list[Decimal]]:
    """Costs of each step in the workflow's last ``HISTORY_RUNS`` succeeded runs."""
    recent = select(WorkflowRun.id).where(WorkflowRun.workflow_id == workflow_id, WorkflowRun.status == "succeeded") \
        .order_by(WorkflowRun.id.desc()).limit(HISTORY_RUNS).scalar_subquery()
    costs: dict[str, list[Decimal]] = {key: [] for key in step_keys}
    for key, cost in db.session.execute(select(StepRun.step_key, StepRun.cost).where(StepRun.run_id.in_(recent))):
        if key in costs:
            costs[key].append(cost or ZERO)
    return costs


def estimate_run(workflow: Workflow, params: Any) -> dict[str, Any]:
    version = get_version(workflow)
    resolved = validate_trigger_params(version.definition, params)
    plan = plan_for(version)
    history = step_history(workflow.id, [spec.id for spec in plan.steps])
    scope = make_scope(resolved, {}, {"id": None, "workflow": workflow.slug, "attempt": 1})
    steps, upper, likely, exact = [], ZERO, ZERO, True
    for spec in plan.steps:
        bound = step_upper_bound(spec.uses, spec.with_, scope)
        past = history.get(spec.id) or []
        step_exact = bound is not None
        if bound is None:
            bound = max(past, default=ZERO)
            exact = False
        median = Decimal(statistics.median(past)) if past else bound
        upper += bound
        likely += median
        steps.append({"step_id": spec.id, "uses": spec.uses, "upper_bound": money_text(bound), "exact": step_exact,
                      "likely": money_text(money_up(median)), "history_runs": len(past)})
    return {"workflow": workflow.slug, "upper_bound": money_text(upper), "upper_bound_exact": exact,
            "likely": money_text(money_up(likely)), "currency": "USD", "steps": steps}


def check_trigger(workflow: Workflow, user_id: int | None, params: Any) -> None:
    """Refuse a new run that its upper bound would take past a ``block`` budget (402)."""
    budgets = applicable_budgets(workflow.id, user_id, policies=("block",))
    if not budgets:
        return
    bound = Decimal(estimate_run(workflow, params)["upper_bound"])
    now = utcnow()
    for budget in budgets:
        spent, reserved = usage_of(budget, period_start(budget.period, now))
        remaining = max(budget.limit - spent - reserved, ZERO)
        if bound > remaining:
            raise BudgetExceeded(
                f"Budget {budget_label(budget)!r} has {remaining} {budget.currency} left this "
                f"{budget.period if budget.period != 'total' else 'budget'}; this run may cost up to {bound}.",
                details={"budget_id": budget.id, "remaining": money_text(remaining), "limit": money_text(budget.limit),
                         "upper_bound": money_text(bound), "period": budget.period})
