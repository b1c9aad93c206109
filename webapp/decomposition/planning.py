"""Planning a valid DAG before it runs: levels, critical path, width, cost and duration, with a basis.

- **Levels**: a task's level is one more than the highest level among what it needs, so each
  level is a set of tasks that may all run at once once the levels before it are done.
  ``max_parallelism`` is the widest level: the most tasks this plan can keep busy at once
  with unlimited workers.
- **Duration** of a task: the median duration of past succeeded attempts of its kind (memo
  hits left out); with no history, its declared ``timeout``, else ``JOB_TIMEOUT``, the longest
  the engine lets it run. The estimate is an upper bound until history exists.
- **Critical path**: the chain of dependencies with the largest summed duration (ties go to
  the task listed first); ``estimated_duration_s`` is its length, the run's wall time with
  enough workers.
- **Cost** of a task: the median cost of past attempts of the same kind and model when there
  is history, else the kind's upper bound (``estimate_cost`` on inputs rendered with no
  upstream outputs; a kind that declares no cost is free). ``upper_bound_cost`` sums the
  upper bounds; a task whose inputs read upstream outputs has no bound before the run and is
  counted in ``unbounded_tasks``.

Everything is one pass over the tasks in dependency order: O(tasks + dependencies).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import current_app

from webapp.costs.estimate import step_upper_bound
from webapp.costs.ledger import ZERO, money_text, money_up
from webapp.decomposition.history import History, model_of
from webapp.decomposition.tree import topological_order
from webapp.steps.base import StepKind
from webapp.steps.registry import get_kind
from webapp.workflows.templating import make_scope


def plan_steps(steps: list[dict[str, Any]], history: History) -> dict[str, Any]:
    """The plan of workflow ``steps`` (``id``, ``uses``, ``needs``, ``with``, ``timeout``)."""
    by_id = {step["id"]: step for step in steps}
    needs = {step["id"]: list(step.get("needs", [])) for step in steps}
    order = topological_order(needs)
    scope = make_scope({}, {}, {"id": None, "workflow": None, "attempt": 1})
    default_timeout = float(current_app.config["JOB_TIMEOUT"])
    level: dict[str, int] = {}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    tasks: dict[str, dict[str, Any]] = {}
    total, upper, unbounded = ZERO, ZERO, 0
    counts = {"duration_history": 0, "duration_timeout": 0, "cost_history": 0, "cost_bound": 0}
    for task_id in order:
        step = by_id[task_id]
        duration, duration_basis = _duration(step, history, default_timeout)
        counts["duration_history" if duration_basis.startswith("median") else "duration_timeout"] += 1
        before = max(needs[task_id], key=lambda name: finish[name], default=None)
        level[task_id] = 1 + max((level[name] for name in needs[task_id]), default=-1)
        finish[task_id] = duration + (finish[before] if before else 0.0)
        via[task_id] = before
        bound = _upper_bound(step, scope)
        past = history.cost(step["uses"], model_of(step.get("with", {})))
        if bound is None:
            unbounded += 1
        else:
            upper += bound
        if past is not None:
            cost, cost_basis = money_up(past[0]), f"median of {past[1]} past attempts"
            counts["cost_history"] += 1
        else:
            cost = bound or ZERO
            cost_basis = "upper bound" if bound is not None else "unknown before the run (reads upstream outputs)"
            counts["cost_bound"] += 1
        total += cost
        tasks[task_id] = {"level": level[task_id], "duration_s": round(duration, 3), "duration_basis": duration_basis,
                          "cost": money_text(cost), "cost_basis": cost_basis}
    levels: list[list[str]] = [[] for _ in range(max(level.values(), default=-1) + 1)]
    for task_id in by_id:  # listed order inside each level
        levels[level[task_id]].append(task_id)
    position = {name: index for index, name in enumerate(order)}
    end = max(order, key=lambda name: (finish[name], -position[name]), default=None)
    path: list[str] = []
    while end is not None:
        path.append(end)
        end = via[end]
    path.reverse()
    return {
        "levels": levels,
        "critical_path": path,
        "max_parallelism": max((len(group) for group in levels), default=0),
        "task_count": len(steps),
        "estimated_cost": money_text(total),
        "upper_bound_cost": money_text(upper),
        "unbounded_tasks": unbounded,
        "currency": "USD",
        "estimated_duration_s": round(finish[path[-1]], 3) if path else 0.0,
        "basis": _basis(counts, len(steps), unbounded),
        "tasks": tasks,
    }


def _upper_bound(step: dict[str, Any], scope: dict[str, Any]) -> Decimal | None:
    """A kind that declares no cost is free whatever its inputs; others price the rendered inputs."""
    if type(get_kind(step["uses"])).estimate_cost is StepKind.estimate_cost:
        return ZERO
    return step_upper_bound(step["uses"], step.get("with", {}), scope)


def _duration(step: dict[str, Any], history: History, default_timeout: float) -> tuple[float, str]:
    past = history.duration(step["uses"])
    if past is not None:
        return past[0], f"median of {past[1]} past attempts of {step['uses']}"
    if step.get("timeout"):
        return float(step["timeout"]), "declared timeout"
    return default_timeout, "JOB_TIMEOUT (no timeout declared, no history)"


def _basis(counts: dict[str, int], total: int, unbounded: int) -> dict[str, str]:
    """One sentence per estimate saying how many tasks each source covers."""
    duration = (f"{counts['duration_history']} of {total} tasks from the median of past attempts of their kind, "
                f"{counts['duration_timeout']} from their declared timeout or JOB_TIMEOUT")
    cost = (f"{counts['cost_history']} of {total} tasks from the median of past attempts of the same kind and model, "
            f"{counts['cost_bound']} from their kind's upper bound")
    if unbounded:
        cost += f"; {unbounded} read upstream outputs, so their cost is not known before the run"
    return {"duration": duration, "cost": cost}

