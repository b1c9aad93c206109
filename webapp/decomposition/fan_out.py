"""The workflow a ``task.decompose`` step generates for its children when it names a ``strategy``.

The strategy plans ONE task tree from the step's rendered ``goal`` and ``input`` (what
``POST /decompositions`` takes: a tree, ``{"pattern", "params"}``, ``{"model"}``). It is
validated like any decomposition, with the same caps and messages, and becomes a workflow that
declares the params ``item``, ``index`` and ``goal``; each item then runs it as a child run.
The tasks read their item as ``{{ params.item }}``. The parent step's ``with`` is rendered in
the parent's scope, so a tree whose own templates read ``params.item`` or ``steps.<task>``
arrives as data: an upstream step's output or a parent param (``"input": "{{ params.plan }}"``),
whose nested templates are not rendered again.

Planning runs in the attempt's execute phase, with no transaction open, so an ``llm`` provider
can take its time; the engine creates the workflow when it records the attempt.
"""
from __future__ import annotations

from typing import Any

from webapp.decomposition.service import analyse, invalid
from webapp.steps.base import StepFailed
from webapp.workflows.params import TYPE_CHECKS, type_name


def child_params(items: list[Any]) -> dict[str, Any]:
    """The params schema of the children: ``item`` typed by the items, which share one JSON type."""
    kinds = {type_name(item) for item in items}
    if len(kinds) != 1 or not kinds <= set(TYPE_CHECKS):
        raise StepFailed(f"items: a strategy's children take their item as a typed param, so the items must all "
                         f"be of one JSON type (not null); got {', '.join(sorted(kinds))}", retryable=False)
    return {"item": {"type": kinds.pop(), "required": True, "description": "The item this child run works on."},
            "index": {"type": "integer", "required": True, "description": "The item's position, from 0."},
            "goal": {"type": "string", "default": "", "description": "The parent step's goal."}}


def child_definition(strategy: str, goal: str, raw: Any, items: list[Any], *, name: str) -> dict[str, Any]:
    """The children's workflow definition, or ``StepFailed`` naming every problem of the tree.

    A failure of the strategy itself (the provider could not answer, or answered with no tree)
    may go away on a new attempt; an invalid tree from the same inputs will not.
    """
    params = child_params(items)
    analysis = analyse(goal, strategy, raw, params=params, plan=False)
    if analysis.errors:
        retryable = any(error.field == "strategy" for error in analysis.errors)
        raise StepFailed(f"the {strategy} strategy could not plan the children: {invalid(analysis).message}",
                         retryable=retryable)
    return {"name": name, "description": goal, "params": params, "steps": analysis.steps}
