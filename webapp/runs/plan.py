"""The parts of a definition the engine needs, read once per (immutable) workflow version.

Definitions are validated when saved (webapp/workflows: known kinds, existing ``needs``, no
cycles), so this reads them without re-checking.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from webapp.steps.registry import get_kind, has_kind
from webapp.workflows import graph
from webapp.workflows.templating import step_references

DEFAULT_BACKOFF = (1,)
DEFAULT_QUEUE = "default"


@dataclass(frozen=True)
class StepSpec:
    id: str
    uses: str
    needs: tuple[str, ...] = ()
    with_: dict[str, Any] = field(default_factory=dict)
    retry_max: int = 0
    backoff: tuple[float, ...] = DEFAULT_BACKOFF
    timeout: int | None = None
    queue: str = DEFAULT_QUEUE
    cache: dict[str, Any] | None = None  # {"ttl": seconds, "refresh": bool}: memoization (webapp/memory/memo.py)

    def backoff_for(self, retry_number: int) -> float:
        """Seconds to wait before retry ``retry_number`` (1-based); the last value repeats."""
        return float(self.backoff[min(retry_number, len(self.backoff)) - 1])


@dataclass(frozen=True)
class Plan:
    steps: tuple[StepSpec, ...]

    @cached_property
    def _by_id(self) -> dict[str, StepSpec]:
        return {step.id: step for step in self.steps}

    @cached_property
    def _upstream(self) -> dict[str, frozenset[str]]:
        needs = {step.id: list(step.needs) for step in self.steps}
        return {step.id: frozenset(graph.ancestors(needs, step.id)) for step in self.steps}

    @cached_property
    def _dependents(self) -> dict[str, tuple[str, ...]]:
        found: dict[str, list[str]] = {step.id: [] for step in self.steps}
        for step in self.steps:
            for name in step.needs:
                found[name].append(step.id)
        return {name: tuple(ids) for name, ids in found.items()}

    @cached_property
    def steps_may_wait(self) -> bool:
        """Whether a step of this plan can wait (for an approval, or for child runs). A kind no
        longer registered (a plugin taken out) counts as one that can: nothing is assumed of it."""
        return any(not has_kind(step.uses) or get_kind(step.uses).waits_for_approval
                   or get_kind(step.uses).spawns_children for step in self.steps)

    def spec(self, step_id: str) -> StepSpec:
        return self._by_id[step_id]

    @cached_property
    def _reads(self) -> dict[str, frozenset[str]]:
        reads = {}
        for step in self.steps:
            refs = step_references(step.with_)
            reads[step.id] = self._upstream[step.id] if refs.indirect else self._upstream[step.id] & refs.names
        return reads

    def reads(self, step_id: str) -> frozenset[str]:
        """The upstream steps whose outputs ``step_id``'s templates read: those they name, or
        every ancestor when a template uses ``steps`` another way. A step whose inputs name no
        step reads none, so a long chain no longer reads every earlier output at each step."""
        return self._reads[step_id]

    def dependents(self, step_id: str) -> tuple[str, ...]:
        """The steps that need ``step_id`` directly, in definition order."""
        return self._dependents[step_id]

    def descendants(self, step_id: str) -> set[str]:
        """Every step that depends on ``step_id``, directly or not."""
        found = {step_id}
        while grown := {step.id for step in self.steps if step.id not in found and found.intersection(step.needs)}:
            found |= grown
        found.discard(step_id)
        return found


def _spec(raw: dict[str, Any], workflow_queue: str) -> StepSpec:
    """A step's settings; its ``queue`` falls back to the workflow's, then to ``default``."""
    retry = raw.get("retry") or {}
    backoff = tuple(retry.get("backoff") or DEFAULT_BACKOFF)
    return StepSpec(id=raw["id"], uses=raw["uses"], needs=tuple(raw.get("needs") or ()),
                    with_=dict(raw.get("with") or {}), retry_max=int(retry.get("max", 0)),
                    backoff=backoff, timeout=raw.get("timeout"), queue=raw.get("queue") or workflow_queue,
                    cache=raw.get("cache"))


_plans: dict[tuple[int, str], Plan] = {}


def plan_for(version) -> Plan:
    """The plan of a ``WorkflowVersion``; versions never change, so it is cached by id and hash."""
    key = (version.id, version.definition_hash)
    if key not in _plans:
        definition = version.definition
        queue = definition.get("queue") or DEFAULT_QUEUE
        _plans[key] = Plan(tuple(_spec(step, queue) for step in definition.get("steps", [])))
    return _plans[key]
