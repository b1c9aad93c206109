"""``memory.get``, ``memory.put`` and ``memory.delete``: values one run leaves for another.

Namespaces are the store's: ``global``, ``workflow:<slug>`` (``"workflow:{{ run.workflow }}"``),
``run:<id>`` (``"run:{{ run.id }}"``, gone with the run) and ``memo``. A put or delete commits
its own short transaction when the step runs, before the engine records the step: the value
is there for the next step at once, and a redelivered attempt writes the same value again,
which changes nothing.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import Field

from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.memory.models import MAX_KEY_CHARS, MAX_NAMESPACE_CHARS
from webapp.memory.store import MAX_TTL_SECONDS, memory
from webapp.steps.base import StepContext, StepFailed, StepInputs, StepKind, StepResult
from webapp.steps.registry import register

T = TypeVar("T")


class KeyInputs(StepInputs):
    namespace: str = Field(min_length=1, max_length=MAX_NAMESPACE_CHARS)
    key: str = Field(min_length=1, max_length=MAX_KEY_CHARS)


class GetInputs(KeyInputs):
    default: Any = None  # only counts when given (``model_fields_set``): a default of null is a default


class PutInputs(KeyInputs):
    value: Any
    ttl: int | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS)


def _refused(error: DomainError) -> StepFailed:
    """Bad names and oversized values fail the same way on every attempt: no retry."""
    return StepFailed(error.message, retryable=False)


def _committed(change: Callable[[], T]) -> T:
    """Run a store write and commit it on its own, so later steps see it at once."""
    try:
        result = change()
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        raise _refused(error) from None
    return result


@register
class MemoryGet(StepKind):
    """Reads through the tiers. Not memoizable: the point is to see what is stored now."""

    name = "memory.get"
    input_schema = GetInputs
    description = "Reads a value from memory; a missing key gives the default, or fails the step."

    def execute(self, inputs: GetInputs, context: StepContext) -> StepResult:
        try:
            hit = memory().get(inputs.namespace, inputs.key)
        except DomainError as error:
            raise _refused(error) from None
        if hit is not None:
            return StepResult(output=hit.value)
        if "default" in inputs.model_fields_set:
            return StepResult(output=inputs.default)
        raise StepFailed(f"{inputs.namespace} has no entry {inputs.key!r} (give a default to make it optional)",
                         retryable=False)


@register
class MemoryPut(StepKind):
    name = "memory.put"
    input_schema = PutInputs
    description = "Stores a value in memory (optionally for ttl seconds); output {stored, bytes, tier}."

    def execute(self, inputs: PutInputs, context: StepContext) -> StepResult:
        stored = _committed(lambda: memory().put(inputs.namespace, inputs.key, inputs.value, inputs.ttl))
        return StepResult(output={"stored": stored.stored, "bytes": stored.bytes, "tier": stored.tier})


@register
class MemoryDelete(StepKind):
    name = "memory.delete"
    input_schema = KeyInputs
    description = "Deletes a key from memory; output {deleted} says whether it existed."

    def execute(self, inputs: KeyInputs, context: StepContext) -> StepResult:
        deleted = _committed(lambda: memory().delete(inputs.namespace, inputs.key))
        return StepResult(output={"deleted": deleted})
