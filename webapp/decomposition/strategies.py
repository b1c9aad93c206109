"""Strategies turn ``(goal, input)`` into a task tree; registered by name so plugins can add more.

- ``explicit``: ``input`` is the tree itself, ``{"tasks": [...]}``.
- ``template``: ``input`` is ``{"pattern": "<name>", "params": {...}}``, expanded by a
  registered pattern (webapp/decomposition/patterns.py).
- ``llm``: the configured provider is asked for the tree as JSON (``input``: ``model``,
  optional). The answer is parsed and then validated like any other tree, so a malformed
  answer is one clear error and never a half plan. Without ``LLM_BASE_URL`` the offline
  splitter answers instead: the goal's clauses (split at ``;``, ``,``, "and then", "then" and
  "and") become a chain of ``llm.complete`` tasks, each reading the one before, the same for
  the same goal every time. The planning call itself is not charged: no run exists to bear it.

A strategy is called ``(goal, input, per_item)``. ``per_item`` is true when a ``task.decompose``
step plans the tree that each of its items runs as a child run: the tasks then read their item
as ``{{ params.item }}`` (and ``params.index``, ``params.goal``). ``explicit`` and ``template``
take the tree as given (its templates may already read ``params.item``); ``llm`` tells the
provider, and the offline splitter gives the item to the first task.

A strategy raises ``StrategyError`` (field + message); the service reports it with the tree's
own problems.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from webapp.decomposition.patterns import DEFAULT_MODEL, PatternError, get_pattern, pattern_names
from webapp.decomposition.tree import MAX_TITLE, TASK_FIELDS
from webapp.steps.base import StepFailed
from webapp.steps.llm_providers import LocalProvider, Provider, current_provider
from webapp.workflows.params import type_name

Strategy = Callable[[str, Any, bool], Any]
_strategies: dict[str, Strategy] = {}
CLAUSE_SPLIT = re.compile(r"\s*(?:;|,|\band then\b|\bthen\b|\band\b)\s*", re.IGNORECASE)
MAX_CLAUSES = 50
ANSWER_TOKENS = 4000
ITEM = "{{ params.item }}"


class StrategyError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def register_strategy(name: str) -> Callable[[Strategy], Strategy]:
    def decorate(function: Strategy) -> Strategy:
        if name in _strategies and _strategies[name] is not function:
            raise ValueError(f"decomposition strategy {name!r} is already registered")
        _strategies[name] = function
        return function
    return decorate


def strategy_names() -> list[str]:
    return sorted(_strategies)


def build_tree(strategy: str, goal: str, raw: Any, *, per_item: bool = False) -> Any:
    """The tree ``strategy`` makes of ``goal`` and its input (not yet validated)."""
    build = _strategies.get(strategy)
    if build is None:
        raise StrategyError("strategy", f"unknown strategy {strategy!r} (known: {', '.join(strategy_names())})")
    return build(goal, raw, per_item)


@register_strategy("explicit")
def explicit(goal: str, raw: Any, per_item: bool) -> Any:
    return raw


@register_strategy("template")
def template(goal: str, raw: Any, per_item: bool) -> Any:
    if not isinstance(raw, dict) or not set(raw) <= {"pattern", "params"}:
        raise StrategyError("input", 'must be {"pattern": "<name>", "params": {...}}')
    pattern = get_pattern(raw.get("pattern")) if isinstance(raw.get("pattern"), str) else None
    if pattern is None:
        raise StrategyError("input.pattern", f"unknown pattern {raw.get('pattern')!r} "
                                             f"(known: {', '.join(pattern_names())})")
    params = raw.get("params", {})
    if not isinstance(params, dict):
        raise StrategyError("input.params", f"must be an object, got {type_name(params)}")
    try:
        return pattern(goal, params)
    except PatternError as error:
        raise StrategyError(f"input.{error.field}", error.message) from None


def planner_provider() -> Provider:
    """The provider asked for subtasks: the app's configured one (tests swap in their own)."""
    return current_provider()


@register_strategy("llm")
def llm(goal: str, raw: Any, per_item: bool) -> Any:
    raw = raw if raw is not None else {}
    if not isinstance(raw, dict) or not set(raw) <= {"model"} or not isinstance(raw.get("model", ""), str):
        raise StrategyError("input", 'must be {} or {"model": "<model>"}')
    model = raw.get("model") or DEFAULT_MODEL
    provider = planner_provider()
    if isinstance(provider, LocalProvider):
        answer = local_split(goal, model, per_item=per_item)
    else:
        try:
            answer = provider.complete(model, planning_prompt(goal, per_item=per_item), ANSWER_TOKENS).text
        except StepFailed as error:
            raise StrategyError("strategy", f"the LLM provider could not plan the goal: {error}") from None
    return parse_answer(answer, provider.name)


def planning_prompt(goal: str, *, per_item: bool = False) -> str:
    each = (f" The tasks run once for each item of a list; a task reads its item as {ITEM} and its position "
            "as {{ params.index }}." if per_item else "")
    return ("Split the goal below into subtasks. Answer with JSON only, no prose, of the form "
            '{"tasks": [{"id": "snake_case_id", "title": "...", "uses": "llm.complete", '
            '"with": {"model": "...", "prompt": "..."}, "depends_on": ["other_id"], "children": []}]}. '
            f"Allowed task fields: {', '.join(sorted(TASK_FIELDS))}.{each}\nGoal: {goal}")


def parse_answer(answer: str, provider: str) -> dict[str, Any]:
    """The provider's JSON tree; anything that is not a JSON object with ``tasks`` is refused."""
    text = answer.strip()
    if text.startswith("```"):  # models like to fence JSON; the fence is not part of the answer
        text = text.strip("`").removeprefix("json").strip()
    try:
        tree = json.loads(text)
    except (ValueError, RecursionError):
        raise StrategyError("strategy", f"the {provider} provider's answer is not JSON: {answer[:120]!r}") from None
    if not isinstance(tree, dict) or "tasks" not in tree:
        raise StrategyError("strategy", f'the {provider} provider\'s answer is not a tree {{"tasks": [...]}}, '
                                        f"got {type_name(tree)}")
    return tree


def local_split(goal: str, model: str, *, per_item: bool = False) -> str:
    """The offline answer: one ``llm.complete`` task per clause of the goal, chained; with
    ``per_item``, the first task's prompt ends with the item."""
    clauses = [clause.strip(" .") for clause in CLAUSE_SPLIT.split(goal) if clause.strip(" .")][:MAX_CLAUSES]
    tasks = []
    for index, clause in enumerate(clauses or [goal.strip() or "goal"]):
        words = re.sub(r"[^a-z0-9]+", "_", clause.lower()).strip("_")[:40] or "task"
        task = {"id": f"t{index + 1}_{words}".rstrip("_"), "title": clause[:MAX_TITLE], "uses": "llm.complete",
                "with": {"model": model, "prompt": clause}}
        if tasks:
            task["depends_on"] = [tasks[-1]["id"]]
            task["with"]["prompt"] = clause + ". Based on: {{ steps." + tasks[-1]["id"] + ".output.text }}"
        elif per_item:
            task["with"]["prompt"] = f"{clause}: {ITEM}"
        tasks.append(task)
    return json.dumps({"tasks": tasks})
