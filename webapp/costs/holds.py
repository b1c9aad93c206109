"""Runs paused by a budget: which budget holds them, and what lets them continue.

A ``pause`` or ``block`` budget that refuses a step's reservation leaves a hold naming itself,
the step and what it needed, and pauses the run with reason ``budget``; the step stays queued
and nothing it or its run did is lost. A hold is lifted, and the run continues by itself, when:
- its budget now has room for what the step needed (the limit was raised, the policy became
  ``alert``, the budget was deactivated or deleted), checked on every change to the budget;
- a new period of the budget has started (``lift_new_periods``, run by the reconciler's timer);
- an admin resumes the run "over budget" (audited): the budget lets that run's steps through
  for the rest of the period, however far over the limit they take it.
A lifted run whose step is refused again simply pauses again with a new hold.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select

from webapp.audit.service import record
from webapp.clock import utcnow
from webapp.costs.budget_models import Budget, BudgetHold
from webapp.costs.ledger import Refusal, money_text, release_stale, usage_of
from webapp.costs.periods import period_start
from webapp.costs.scopes import budget_label
from webapp.events import publish
from webapp.exceptions import Conflict
from webapp.extensions import db
from webapp.runs import engine, states


def hold_run(run, step_key: str, refusal: Refusal) -> BudgetHold:
    """Record the hold and pause the run (the caller holds the run's lock and commits)."""
    hold = BudgetHold(run_id=run.id, budget_id=refusal.budget.id, step_key=step_key,
                      period_start=refusal.period_start, needed=refusal.needed, remaining=refusal.remaining)
    db.session.add(hold)
    db.session.flush()
    publish("budget.run_held", {"budget_id": refusal.budget.id, "run_id": run.id, "step_id": step_key,
                                "needed": money_text(refusal.needed), "remaining": money_text(refusal.remaining)})
    if not states.is_held(run):
        engine.pause_run(run, "budget", note=f"{budget_label(refusal.budget)}: step {step_key} needs up to "
                                             f"{money_text(refusal.needed)}, {money_text(refusal.remaining)} left")
    return hold


def active_holds(run_id: int) -> list[BudgetHold]:
    return list(db.session.scalars(select(BudgetHold).where(
        BudgetHold.run_id == run_id, BudgetHold.status == "active").order_by(BudgetHold.id)).all())


def overridden_budgets(run_id: int) -> set[int]:
    """Budgets an admin let this run pass in their current period."""
    now = utcnow()
    rows = db.session.execute(select(BudgetHold.budget_id, BudgetHold.period_start, Budget.period)
                              .join(Budget, Budget.id == BudgetHold.budget_id)
                              .where(BudgetHold.run_id == run_id, BudgetHold.status == "overridden")).all()
    return {row.budget_id for row in rows if row.period_start == period_start(row.period, now)}


def fits_now(hold: BudgetHold, budget: Budget | None) -> bool:
    if budget is None or not budget.active or budget.on_exceed == "alert":
        return True
    start = period_start(budget.period, utcnow())
    if start != hold.period_start:
        return True
    spent, reserved = usage_of(budget, start)
    return spent + reserved + hold.needed <= budget.limit


def review_budget(budget: Budget, *, actor=None) -> int:
    """Lift the holds of ``budget`` that its new settings make room for; returns how many."""
    ready = [hold for hold in db.session.scalars(select(BudgetHold).where(
        BudgetHold.budget_id == budget.id, BudgetHold.status == "active").order_by(BudgetHold.id)).all()
        if fits_now(hold, budget)]
    lift_all(ready, "lifted", actor=actor)
    return len(ready)


def lift_new_periods() -> int:
    """Lift every hold whose budget period has ended; the caller commits."""
    now = utcnow()
    ended = [hold for hold, budget in db.session.execute(
        select(BudgetHold, Budget).join(Budget, Budget.id == BudgetHold.budget_id)
        .where(BudgetHold.status == "active")).all() if period_start(budget.period, now) != hold.period_start]
    lift_all(ended, "lifted")
    return len(ended)


def lift_all(holds: list[BudgetHold], status: str, *, actor=None) -> None:
    """Lock every run concerned first, in id order: the engine takes run rows before the workflow
    row (which resuming a run takes), so locking a second run after resuming the first could
    deadlock with a worker finishing a step of that second run."""
    for run_id in sorted({hold.run_id for hold in holds}):
        engine.lock_run(run_id)
    for hold in holds:
        lift(hold, status, actor=actor)


def sweep() -> dict[str, int]:
    """The reconciler's budget pass: lift holds of ended periods, release reservations that
    outlived their attempt. Commits."""
    lifted = lift_new_periods()
    db.session.commit()  # before touching budget periods: resuming runs took workflow rows
    released = release_stale()
    db.session.commit()
    return {"holds_lifted": lifted, "reservations_released": released}


def lift(hold: BudgetHold, status: str, *, actor=None) -> None:
    """Close one hold; the run resumes once no other budget holds it."""
    run = engine.lock_run(hold.run_id)
    hold.status, hold.closed_at, hold.closed_by = status, utcnow(), getattr(actor, "id", actor)
    publish("budget.run_released", {"budget_id": hold.budget_id, "run_id": hold.run_id, "how": status})
    db.session.flush()
    if run is not None and not active_holds(run.id):
        engine.lift_pause(run, "budget")  # a no-op unless the run is held for its budget


def resume_over_budget(run_id: int, *, actor) -> list[BudgetHold]:
    """An admin lets a budget-paused run continue past its budgets for this period (audited)."""
    run = engine.lock_run(run_id)
    holds = active_holds(run_id) if run is not None else []
    if run is None or not (states.is_held(run) and run.pause_reason == "budget") or not holds:
        raise Conflict(f"Run {run_id} is not paused by a budget.", details={"state": getattr(run, "status", None)})
    record("run.resume_over_budget", actor=actor, target_type="run", target_id=run_id,
           details={"budgets": ",".join(str(hold.budget_id) for hold in holds)})
    lift_all(holds, "overridden", actor=actor)
    return holds


def hold_json(hold: BudgetHold) -> dict[str, Any]:
    return {"id": hold.id, "run_id": hold.run_id, "budget_id": hold.budget_id, "step_id": hold.step_key,
            "budget": budget_label(hold.budget), "period_start": hold.period_start.isoformat(),
            "needed": money_text(hold.needed), "remaining": money_text(hold.remaining), "status": hold.status,
            "created_at": hold.created_at.isoformat()}
