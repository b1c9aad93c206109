"""The ``template`` strategy's patterns: registered shapes that expand parameters into a task tree.

A pattern takes ``(goal, params)`` and returns a tree, or raises ``PatternError`` naming the
parameter. Plugins add patterns with ``register_pattern``.

Placeholders are filled in when the tree is built, not at run time: ``{{ item }}`` and
``{{ index }}`` (``map_reduce``, ``fan_out_fan_in``), ``{{ outputs }}`` (the list of the
branches' outputs, for the reducer or join) and ``{{ previous }}`` (the output of the task
before, in ``pipeline`` and ``review_loop``) become a literal or a run-time expression over
``steps.<id>.output``. Any other template (``{{ params.x }}``, ``{{ steps.a.output }}``) is
left for the engine to render as in every workflow. A string that is exactly
``"{{ item }}"`` becomes the item itself, whatever its type.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from webapp.workflows.params import type_name

MAX_ITEMS = 500
MAX_ROUNDS = 5
PLACEHOLDER = re.compile(r"\{\{\s*(item|index|outputs|previous)\s*\}\}")
DEFAULT_MAP = {"uses": "template.render", "with": {"template": "{{ item }}"}}
DEFAULT_REDUCE = {"uses": "template.render", "with": {"template": "{{ outputs }}"}}
DEFAULT_MODEL = "local-small"

Pattern = Callable[[str, dict[str, Any]], dict[str, Any]]
_patterns: dict[str, Pattern] = {}


class PatternError(ValueError):
    """A pattern's parameter is wrong: ``field`` names it (``params.items``)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def register_pattern(name: str) -> Callable[[Pattern], Pattern]:
    def decorate(function: Pattern) -> Pattern:
        if name in _patterns and _patterns[name] is not function:
            raise ValueError(f"pattern {name!r} is already registered")
        _patterns[name] = function
        return function
    return decorate


def pattern_names() -> list[str]:
    return sorted(_patterns)


def get_pattern(name: str) -> Pattern | None:
    return _patterns.get(name)


def fill(value: Any, values: dict[str, Any]) -> Any:
    """``value`` with its placeholders replaced (see the module docstring); recursive."""
    if isinstance(value, dict):
        return {key: fill(item, values) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, values) for item in value]
    if not isinstance(value, str):
        return value
    whole = PLACEHOLDER.fullmatch(value.strip())
    if whole and whole.group(1) in ("item", "index") and whole.group(1) in values:
        return values[whole.group(1)]

    def replace(match: re.Match) -> str:
        name = match.group(1)
        if name not in values:
            return match.group(0)
        found = values[name]
        if name in ("outputs", "previous"):
            return "{{ " + found + " }}"
        return found if isinstance(found, str) else json.dumps(found)

    return PLACEHOLDER.sub(replace, value)


def _step(params: dict[str, Any], name: str, default: dict[str, Any] | None) -> dict[str, Any]:
    """A ``{uses, with}`` parameter, or its default."""
    step = params.get(name, default)
    if step is None:
        raise PatternError(f"params.{name}", 'is required: {"uses": "<step kind>", "with": {...}}')
    if not isinstance(step, dict) or not isinstance(step.get("uses"), str) or not set(step) <= {"uses", "with"} \
            or not isinstance(step.get("with", {}), dict):
        raise PatternError(f"params.{name}", 'must be {"uses": "<step kind>", "with": {...}}')
    return {"uses": step["uses"], "with": step.get("with", {})}


def _list(params: dict[str, Any], name: str, *, maximum: int = MAX_ITEMS) -> list[Any]:
    items = params.get(name)
    if not isinstance(items, list) or not items:
        raise PatternError(f"params.{name}", f"must be a non-empty list, got {type_name(items)}")
    if len(items) > maximum:
        raise PatternError(f"params.{name}", f"has {len(items)} entries; at most {maximum} are allowed")
    return items


def _outputs(ids: list[str]) -> str:
    return "[" + ", ".join(f"steps.{task_id}.output" for task_id in ids) + "]"


def _output_of(task_id: str, uses: str) -> str:
    """The run-time expression for a task's result: an LLM answer's text, else the whole output."""
    return f"steps.{task_id}.output.text" if uses == "llm.complete" else f"steps.{task_id}.output"


def _width(count: int) -> int:
    return len(str(count))


@register_pattern("map_reduce")
def map_reduce(goal: str, params: dict[str, Any]) -> dict[str, Any]:
    """``map`` once per entry of ``items`` (in parallel), then ``reduce`` over their outputs."""
    items = _list(params, "items")
    mapper, reducer = _step(params, "map", DEFAULT_MAP), _step(params, "reduce", DEFAULT_REDUCE)
    width = _width(len(items))
    ids = [f"map_{index + 1:0{width}d}" for index in range(len(items))]
    tasks = [{"id": task_id, "title": f"Map item {index + 1}", "uses": mapper["uses"],
              "with": fill(mapper["with"], {"item": item, "index": index})}
             for index, (task_id, item) in enumerate(zip(ids, items, strict=True))]
    tasks.append({"id": "reduce", "title": f"Reduce: {goal}"[:200], "uses": reducer["uses"], "depends_on": ids,
                  "with": fill(reducer["with"], {"outputs": _outputs(ids)})})
    return {"tasks": tasks}


@register_pattern("fan_out_fan_in")
def fan_out_fan_in(goal: str, params: dict[str, Any]) -> dict[str, Any]:
    """Different ``branches`` side by side (each ``{uses, with}``), then one ``join`` over them all."""
    branches = [_step({"branch": branch}, "branch", None) for branch in _list(params, "branches")]
    join = _step(params, "join", DEFAULT_REDUCE)
    width = _width(len(branches))
    ids = [f"branch_{index + 1:0{width}d}" for index in range(len(branches))]
    tasks = [{"id": task_id, "title": f"Branch {index + 1}", "uses": branch["uses"],
              "with": fill(branch["with"], {"index": index})}
             for index, (task_id, branch) in enumerate(zip(ids, branches, strict=True))]
    tasks.append({"id": "join", "title": f"Join: {goal}"[:200], "uses": join["uses"], "depends_on": ids,
                  "with": fill(join["with"], {"outputs": _outputs(ids)})})
    return {"tasks": tasks}


@register_pattern("pipeline")
def pipeline(goal: str, params: dict[str, Any]) -> dict[str, Any]:
    """``stages`` one after the other; ``{{ previous }}`` is the stage before's output."""
    stages = [_step({"stage": stage}, "stage", None) for stage in _list(params, "stages")]
    width = _width(len(stages))
    tasks: list[dict[str, Any]] = []
    previous = None
    for index, stage in enumerate(stages):
        task_id = f"stage_{index + 1:0{width}d}"
        values = {"index": index, **({"previous": _output_of(previous, tasks[-1]["uses"])} if previous else {})}
        tasks.append({"id": task_id, "title": f"Stage {index + 1}", "uses": stage["uses"],
                      "depends_on": [previous] if previous else [], "with": fill(stage["with"], values)})
        previous = task_id
    return {"tasks": tasks}


@register_pattern("review_loop")
def review_loop(goal: str, params: dict[str, Any]) -> dict[str, Any]:
    """Draft, then ``rounds`` times review and revise; unrolled, so the bound is visible in the plan.

    Each task defaults to ``llm.complete`` on ``model`` (``local-small``) with a prompt naming
    the goal; ``{{ previous }}`` is the draft or revision before it.
    """
    rounds = params.get("rounds", 1)
    if not isinstance(rounds, int) or isinstance(rounds, bool) or not 1 <= rounds <= MAX_ROUNDS:
        raise PatternError("params.rounds", f"must be a whole number from 1 to {MAX_ROUNDS}")
    model = params.get("model", DEFAULT_MODEL)
    if not isinstance(model, str) or not model:
        raise PatternError("params.model", "must be the name of a priced model")

    def llm(prompt: str) -> dict[str, Any]:
        return {"uses": "llm.complete", "with": {"model": model, "prompt": prompt}}

    draft = _step(params, "draft", llm(f"Write a first draft: {goal}"))
    review = _step(params, "review", llm(f"Review this draft of '{goal}' and list what to fix: {{{{ previous }}}}"))
    revise = _step(params, "revise", llm(f"Revise the draft of '{goal}' following this review: {{{{ previous }}}}"))
    tasks = [{"id": "draft", "title": "Draft", **draft}]
    for number in range(1, rounds + 1):
        for stage, spec in (("review", review), ("revise", revise)):
            previous = tasks[-1]
            tasks.append({"id": f"{stage}_{number}", "title": f"{stage.title()} {number}", "uses": spec["uses"],
                          "depends_on": [previous["id"]],
                          "with": fill(spec["with"], {"previous": _output_of(previous["id"], previous["uses"])})})
    return {"tasks": tasks}
