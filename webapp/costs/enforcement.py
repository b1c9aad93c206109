"""What the executor calls around one step attempt: reserve before it starts, settle or release after.

The order inside the claim is the engine's: a memo-cache hit is looked up first and reserves
nothing; only a step that will really run reserves its upper bound (``StepKind.estimate_cost``
on its rendered inputs) against every budget that applies to its run. A refusal by a ``pause``
or ``block`` budget leaves the step queued, records which budget holds the run and pauses it
with reason ``budget``: the attempt never started, so nothing is lost and no retry is spent.
"""
from __future__ import annotations

from decimal import Decimal
from functools import partial
from typing import Any

from webapp.costs import holds, ledger
from webapp.costs.estimate import step_upper_bound
from webapp.workflows.templating import make_scope


def reserve_step(run, step, uses: str, with_: dict[str, Any], outputs: dict[str, Any],
                 scope_run: dict[str, Any]) -> ledger.Refusal | bool:
    """Reserve the attempt's upper bound: whether it reserved anything, or the refusal (and the
    run held and paused).

    The caller holds the run's lock and commits either way. Nothing is computed when no
    budget applies; free steps (no estimate, or 0), and steps whose inputs do not render (the
    attempt fails on them), reserve nothing and are never held. An attempt that reserved
    nothing has nothing to close when it settles (``settle_step(..., reserved=False)``).
    """
    budgets = ledger.applicable_rules(run.workflow_id, run.triggered_by)
    if not budgets:
        return False
    amount = step_upper_bound(uses, with_, make_scope(run.params, outputs, scope_run))
    if not amount:
        return False
    reserve = partial(ledger.reserve, budgets, amount, run_id=run.id, step_run_id=step.id, attempt=step.attempt)
    refusal = reserve()
    if refusal is not None and refusal.budget.id in (overridden := holds.overridden_budgets(run.id)):
        refusal = reserve(overridden=overridden)  # an admin let this run past that budget
    if refusal is not None:
        holds.hold_run(run, step.step_key, refusal)
        return refusal
    return True


def settle_step(run, step, actual: Decimal, *, reserved: bool = True) -> None:
    """The attempt finished and spent ``actual``: its reservations become that spend, and every
    budget that applies now is charged it (one created while the step ran included).
    ``reserved=False``: the attempt's claim reserved nothing, so there is nothing to close."""
    ledger.settle(step.id, step.attempt, actual, workflow_id=run.workflow_id, user_id=run.triggered_by,
                  reserved=reserved)


def release_step(step) -> None:
    """The attempt failed or crashed: give back all it reserved (what it recorded was settled)."""
    ledger.release(step.id, step.attempt)
