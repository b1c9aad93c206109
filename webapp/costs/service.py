"""Budgets: create, change and delete them (audited, published), and read their usage.

``scope_id`` is stored as the workflow's or the user's row id and spoken as the API names
them elsewhere: a workflow's slug, a user's id. Changing a budget can free the runs it paused
(a higher limit, a policy of ``alert``, deactivation, deletion); webapp/costs/holds.py decides
and the runs continue by themselves.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select

from webapp.audit.service import record
from webapp.clock import utcnow
from webapp.costs import holds
from webapp.costs.budget_models import Budget, BudgetAlert
from webapp.costs.ledger import ZERO, money_text, usage_of
from webapp.costs.periods import period_end, period_start
from webapp.costs.scopes import budget_label, resolve_scope, scope_ref
from webapp.events import publish
from webapp.exceptions import InvalidInput, NotFound
from webapp.extensions import db

EDITABLE = ("name", "limit", "currency", "soft_threshold_pct", "on_exceed", "active", "period")


def get_budget(budget_id: int) -> Budget:
    budget = db.session.get(Budget, budget_id)
    if budget is None:
        raise NotFound(f"There is no budget {budget_id}.")
    return budget


def list_budgets() -> list[Budget]:
    return list(db.session.scalars(select(Budget).order_by(Budget.id)).all())


def create_budget(*, scope: str, scope_id: str | int | None, period: str, limit: Decimal, on_exceed: str,
                  currency: str = "USD", soft_threshold_pct: int = 80, name: str = "", actor=None) -> Budget:
    budget = Budget(name=name, scope=scope, scope_id=resolve_scope(scope, scope_id), period=period, limit=limit,
                    currency=currency, soft_threshold_pct=soft_threshold_pct, on_exceed=on_exceed,
                    created_by=getattr(actor, "id", actor))
    db.session.add(budget)
    db.session.flush()
    _audit("budget.create", "budget.created", budget, actor, settings=_settings(budget))
    return budget


def update_budget(budget_id: int, changes: dict[str, Any], *, actor=None) -> Budget:
    """Apply ``changes`` (only the editable fields); raising headroom frees the runs it paused."""
    budget = get_budget(budget_id)
    before = _settings(budget)
    for field, value in changes.items():
        if field not in EDITABLE:
            raise InvalidInput(f"{field} cannot be changed.", details={"fields": {field: "is not editable"}})
        setattr(budget, field, value)
    budget.updated_at = utcnow()
    after = _settings(budget)
    if after == before:
        return budget
    db.session.flush()
    _audit("budget.update", "budget.updated", budget, actor,
           changed={key: {"from": before[key], "to": after[key]} for key in after if after[key] != before[key]})
    holds.review_budget(budget, actor=actor)
    return budget


def delete_budget(budget_id: int, *, actor=None) -> None:
    budget = get_budget(budget_id)
    _audit("budget.delete", "budget.deleted", budget, actor, settings=_settings(budget))
    budget.active = False
    holds.review_budget(budget, actor=actor)
    db.session.delete(budget)


def _settings(budget: Budget) -> dict[str, Any]:
    return {"name": budget.name, "scope": budget.scope, "scope_id": scope_ref(budget), "period": budget.period,
            "limit": money_text(budget.limit), "currency": budget.currency,
            "soft_threshold_pct": budget.soft_threshold_pct, "on_exceed": budget.on_exceed, "active": budget.active}


def _audit(audit_event: str, event: str, budget: Budget, actor, **details: Any) -> None:
    record(audit_event, actor=actor, target_type="budget", target_id=budget.id, details={
        key: str(value) if isinstance(value, dict) else value for key, value in details.items()})
    publish(event, {"budget_id": budget.id, **details})


def usage(budget: Budget, at=None) -> dict[str, Any]:
    """The current period's figures; ``remaining`` never goes below zero."""
    at = at or utcnow()
    start = period_start(budget.period, at)
    spent, reserved = usage_of(budget, start)
    end = period_end(budget.period, at)
    return {"period_start": start.isoformat(), "period_end": end.isoformat() if end else None,
            "spent": money_text(spent), "reserved": money_text(reserved), "limit": money_text(budget.limit),
            "remaining": money_text(max(budget.limit - spent - reserved, ZERO)), "currency": budget.currency}


def budget_json(budget: Budget, *, with_usage: bool = True) -> dict[str, Any]:
    data = {"id": budget.id, "name": budget.name, "label": budget_label(budget), "scope": budget.scope,
            "scope_id": scope_ref(budget), "period": budget.period, "limit": money_text(budget.limit),
            "currency": budget.currency, "soft_threshold_pct": budget.soft_threshold_pct,
            "on_exceed": budget.on_exceed, "active": budget.active, "created_by": budget.created_by,
            "created_at": budget.created_at.isoformat(), "updated_at": budget.updated_at.isoformat()}
    if with_usage:
        data["usage"] = usage(budget)
    return data


def alerts_of(budget_id: int, limit: int = 100) -> list[BudgetAlert]:
    get_budget(budget_id)
    return list(db.session.scalars(select(BudgetAlert).where(BudgetAlert.budget_id == budget_id)
                                   .order_by(BudgetAlert.fired_at.desc(), BudgetAlert.id.desc()).limit(limit)).all())


def recent_alerts(limit: int = 20) -> list[BudgetAlert]:
    return list(db.session.scalars(select(BudgetAlert).order_by(BudgetAlert.fired_at.desc(), BudgetAlert.id.desc())
                                   .limit(limit)).all())


def alert_json(alert: BudgetAlert) -> dict[str, Any]:
    return {"id": alert.id, "budget_id": alert.budget_id, "kind": alert.kind,
            "period_start": alert.period_start.isoformat(),
            "threshold_pct": alert.threshold_pct, "used": money_text(alert.used), "limit": money_text(alert.limit),
            "fired_at": alert.fired_at.isoformat()}
