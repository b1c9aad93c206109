"""The step-kind contract the execution engine codes against.

A step kind turns validated inputs into a ``StepResult``. The engine renders the ``with``
templates, validates them against ``input_schema``, calls ``execute`` inside an RQ job and
records the output and ``cost`` in one transaction. Kinds never touch the database or the run
state themselves, so the engine alone decides retries, checkpoints and status.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, ValidationError


class StepInputs(BaseModel):
    """Base for every kind's ``input_schema``: strict types, unknown fields refused."""

    model_config = ConfigDict(strict=True, extra="forbid")


@dataclass(frozen=True)
class StepContext:
    """What a running step may know about its run; ``should_stop`` turns true on cancel."""

    run_id: int
    step_id: str
    attempt: int
    params: dict[str, Any]
    outputs: dict[str, Any]  # of the upstream steps the inputs' templates read (``Plan.reads``)
    should_stop: Callable[[], bool] = field(default=lambda: False)


@dataclass(frozen=True)
class CostLine:
    """One spend of one attempt; becomes a ``cost_records`` row. Money is always Decimal."""

    kind: str
    model: str | None
    units_in: int
    units_out: int
    unit_price_in: Decimal
    unit_price_out: Decimal
    amount: Decimal
    currency: str = "USD"


@dataclass(frozen=True)
class StepResult:
    output: Any
    cost: CostLine | None = None


@dataclass(frozen=True)
class SpawnChildren:
    """A result that asks the engine for child runs instead of giving an output (``task.decompose``).

    One run per entry of ``items`` of the workflow ``workflow`` (a slug), or of a new workflow
    created from ``definition`` (planned by a strategy), at most ``max_children`` at once; the
    step succeeds with the children's outputs in item order once all finished, unless more
    than ``allow_failures`` of them did not succeed.
    """

    items: list[Any]
    max_children: int
    workflow: str | None
    allow_failures: int = 0
    goal: str = ""
    definition: dict[str, Any] | None = None


class StepFailed(Exception):
    """The step's own failure; the message is shown to operators as the step's error.

    ``retryable=False`` says that running the same attempt again cannot help (inputs that are
    invalid after rendering, an unknown function, a refused host): the engine fails the step at
    once and spends no retry.
    """

    def __init__(self, message: str = "", *, retryable: bool = True) -> None:
        super().__init__(message)
        self.retryable = retryable


class StepKind:
    """Base class for step kinds; subclasses set the class attributes and implement ``execute``.

    ``memoizable`` says whether the same kind, version and inputs always give the same output
    without side effects, so the engine may reuse a cached result. ``waits_for_approval`` is
    true only for ``gate.approval``: the engine parks such a step and never calls ``execute``.
    ``spawns_children`` is true only for ``task.decompose``, whose step waits for child runs.
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    memoizable: ClassVar[bool] = False
    waits_for_approval: ClassVar[bool] = False
    spawns_children: ClassVar[bool] = False
    input_schema: ClassVar[type[StepInputs]] = StepInputs
    description: ClassVar[str] = ""

    def parse_inputs(self, raw: dict[str, Any]) -> StepInputs:
        """Validate rendered inputs; a template that rendered to the wrong shape is ``StepFailed``."""
        try:
            return self.input_schema.model_validate(raw)
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in item['loc']) or 'with'}: {item['msg']}"
                for item in error.errors(include_url=False, include_input=False)
            )
            raise StepFailed(f"inputs for {self.name} are not valid ({problems})", retryable=False) from None

    def estimate_cost(self, inputs: StepInputs) -> Decimal | None:
        """A cost guess before running (budgets compare it); ``None`` means free or unknown."""
        return None

    def execute(self, inputs: StepInputs, context: StepContext) -> StepResult:
        raise NotImplementedError(f"step kind {self.name} does not implement execute")


class StepStopped(StepFailed):
    """The step gave up because ``context.should_stop()`` turned true (the run was cancelled)."""
