"""Step memoization: a step with ``cache: {ttl}`` reuses the output of an identical earlier one.

The key is SHA-256 over the canonical JSON (sorted keys, no whitespace) of: the kind's name
and ``version``, its validated inputs after rendering (defaults filled in, so leaving out
``max_tokens`` and giving its default are the same step), and for ``llm.complete`` the model
and the version of its price (the row of the price table in force: a new price is a new key,
so a cached answer never hides a price change). If any part cannot be computed the step is
simply not cached: no key, no lookup, no store (a key built from part of the inputs would
hand one step's result to a different step).

Entries live in the ``memo`` namespace as ``{"output", "cost", "kind", "cost_kind", "model"}``;
``cost`` is what the original attempt spent, which a hit reports as ``saved``. Only successful
attempts are stored, in the same transaction that records the success.

How the engine uses it (webapp/runs/execution.py), in three places:
- ``plan`` when it claims the attempt, before any budget reservation: the key, and a result
  already stored (a plain read, no waiting). A hit reserves nothing.
- ``before_execute`` with no transaction open: the hit, or, on a miss, a bounded wait for a
  concurrent attempt computing the same key, else this attempt computes it (holding the key's
  lock until its outcome commits); ``computed`` tags the kind's result with the key.
- ``after_success`` while recording the success: store the computed result. A hit succeeds
  with ``cache_hit`` true, a cost record of 0 and ``saved`` = the original attempt's cost.
"""
from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from webapp.clock import utcnow
from webapp.costs.models import CostRecord
from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.memory import stampede
from webapp.memory.store import memory
from webapp.steps.base import CostLine, StepInputs, StepKind, StepResult
from webapp.steps.registry import get_kind
from webapp.workflows.templating import make_scope, render_inputs

log = logging.getLogger(__name__)
NAMESPACE = "memo"


def _llm_parts(inputs: StepInputs) -> dict[str, Any]:
    from webapp.costs.prices import price_at

    model = inputs.model  # type: ignore[attr-defined]
    price = price_at(model, utcnow())
    if price is None:
        raise LookupError(f"model {model!r} has no price")
    return {"model": model, "price_version": f"{price.source}:{price.effective_from.isoformat()}:"
                                             f"{price.input_per_1k}:{price.output_per_1k}:{price.currency}"}


# Kinds whose result depends on more than their inputs name what else goes into the key.
EXTRA_KEY_PARTS: dict[str, Callable[[StepInputs], dict[str, Any]]] = {"llm.complete": _llm_parts}


@dataclass(frozen=True)
class Memo:
    output: Any
    cost: Decimal
    cost_kind: str
    model: str | None


@dataclass(frozen=True)
class MemoPlan:
    key: str
    kind: str
    ttl: int
    refresh: bool
    hit: Memo | None


@dataclass(frozen=True)
class CachedResult(StepResult):
    """A memo hit: the stored output and a zero cost line; ``saved`` is what it did not spend."""

    saved: Decimal = Decimal("0")


@dataclass(frozen=True)
class ComputedResult(StepResult):
    """A result the kind computed for a cached step: stored once its success is recorded."""

    plan: MemoPlan | None = None


def memo_key(kind: StepKind, inputs: StepInputs) -> str | None:
    """The memo key of running ``kind`` on ``inputs``, or None when it cannot be computed."""
    if not kind.memoizable:
        return None
    try:
        parts = {"kind": kind.name, "version": kind.version, "inputs": inputs.model_dump(mode="json")}
        extra = EXTRA_KEY_PARTS.get(kind.name)
        if extra is not None:
            parts["extra"] = extra(inputs)
        canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    except Exception as error:  # any failure means "do not cache", never "cache under a partial key"
        log.warning("memo: no cache key for %s (%s: %s); the step runs uncached", kind.name,
                    type(error).__name__, error)
        return None
    return hashlib.sha256(canonical.encode()).hexdigest()


def lookup(key: str, *, refresh: bool = False) -> Memo | None:
    """The stored result, or None: then the caller computes and calls ``store`` (a concurrent
    caller with the same key waits, bounded, for that value instead of computing it too).
    ``refresh`` skips the read and recomputes, still as the one caller in charge of the key."""
    store = memory()
    if refresh:
        stampede.lead(store, NAMESPACE, key)
        return None
    hit, _ = stampede.claim(store, NAMESPACE, key)
    return _memo(hit.value) if hit is not None else None


def peek(key: str) -> Memo | None:
    """The stored result if there is one now: no lock, no waiting."""
    hit = memory().get(NAMESPACE, key)
    return _memo(hit.value) if hit is not None else None


def _memo(value: Any) -> Memo | None:
    if not isinstance(value, dict) or "output" not in value:
        return None
    return Memo(value["output"], Decimal(str(value.get("cost") or "0")),
                value.get("cost_kind") or value.get("kind", ""), value.get("model"))


def store(key: str, kind: str, result: StepResult, ttl: int) -> bool:
    """Remember a successful attempt's output in the caller's transaction; an output the store
    refuses (too large, not JSON) is simply not cached, and the step's success stands."""
    line = result.cost
    value = {"output": result.output, "cost": str(line.amount if line else Decimal("0")), "kind": kind,
             "cost_kind": line.kind if line else kind, "model": line.model if line else None}
    try:
        memory().put(NAMESPACE, key, value, ttl, write_through=True)
    except DomainError as error:
        log.warning("memo: not caching a %s result: %s", kind, error.message)
        return False
    return True


def plan(spec, params: dict[str, Any], outputs: dict[str, Any], run: dict[str, Any]) -> MemoPlan | None:
    """For a step with ``cache``: its key and any result stored now. None when the step is not
    cached, its inputs do not render (the attempt fails on them anyway) or no key results."""
    if not spec.cache:
        return None
    try:
        kind = get_kind(spec.uses)
        inputs = kind.parse_inputs(render_inputs(spec.with_, make_scope(params, outputs, run)))
    except Exception:
        return None
    key = memo_key(kind, inputs)
    if key is None:
        return None
    refresh = bool(spec.cache.get("refresh"))
    return MemoPlan(key, kind.name, int(spec.cache["ttl"]), refresh, None if refresh else peek(key))


def before_execute(memo_plan: MemoPlan | None) -> CachedResult | None:
    """The hit to succeed with instead of executing, or None: then execute (and ``computed``)."""
    if memo_plan is None:
        return None
    found = memo_plan.hit or lookup(memo_plan.key, refresh=memo_plan.refresh)
    if found is None:
        return None
    zero = CostLine(kind=found.cost_kind, model=found.model, units_in=0, units_out=0, unit_price_in=Decimal("0"),
                    unit_price_out=Decimal("0"), amount=Decimal("0"))
    return CachedResult(output=found.output, cost=zero, saved=found.cost)


def computed(memo_plan: MemoPlan | None, result: StepResult) -> StepResult:
    return ComputedResult(output=result.output, cost=result.cost, plan=memo_plan) if memo_plan else result


def after_success(result: StepResult) -> None:
    """While the engine records a success: store what was computed (never a hit or a failure)."""
    if isinstance(result, ComputedResult) and result.plan is not None:
        store(result.plan.key, result.plan.kind, result, result.plan.ttl)


def saved_by(result: StepResult) -> Decimal:
    return result.saved if isinstance(result, CachedResult) else Decimal("0")


def saved_by_step(run_id: int) -> dict[int, Decimal]:
    """What memo hits saved, per step run of ``run_id`` (steps without a hit are absent)."""
    rows = db.session.execute(select(CostRecord.step_run_id, func.sum(CostRecord.saved))
                              .where(CostRecord.run_id == run_id, CostRecord.saved > 0)
                              .group_by(CostRecord.step_run_id)).all()
    return {step_run_id: amount for step_run_id, amount in rows}
