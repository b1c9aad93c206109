"""A STEP_PLUGINS module for budget tests: ``test.metered``, a kind that declares its upper bound.

It reserves ``bound``, sleeps ``seconds`` (long enough for a test to kill its worker) and then
spends ``spend``, or fails when ``fail`` is set; a plain llm.complete is too quick to catch in the middle.
"""
from __future__ import annotations

import time
from decimal import Decimal

from pydantic import Field

from webapp.steps.base import CostLine, StepContext, StepFailed, StepInputs, StepKind, StepResult
from webapp.steps.registry import register


class MeteredInputs(StepInputs):
    bound: str = Field(pattern=r"^\d+(\.\d+)?$")
    spend: str = Field(pattern=r"^\d+(\.\d+)?$")
    seconds: float = Field(default=0, ge=0, le=60)
    fail: bool = False


@register
class Metered(StepKind):
    name = "test.metered"
    input_schema = MeteredInputs
    description = "Test kind: reserves `bound`, sleeps `seconds`, spends `spend`."

    def estimate_cost(self, inputs: MeteredInputs) -> Decimal | None:
        return Decimal(inputs.bound)

    def execute(self, inputs: MeteredInputs, context: StepContext) -> StepResult:
        time.sleep(inputs.seconds)
        if inputs.fail:
            raise StepFailed("metered step failed on purpose")
        amount = Decimal(inputs.spend)
        return StepResult(output={"spent": inputs.spend}, cost=CostLine(
            kind="test", model=None, units_in=0, units_out=0, unit_price_in=Decimal("0"),
            unit_price_out=Decimal("0"), amount=amount))
