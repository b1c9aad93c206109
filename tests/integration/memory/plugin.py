"""A STEP_PLUGINS module for the memoization tests: a memoizable kind that can fail on purpose.

``test.double`` doubles ``x``, charges a fixed cost, counts its executions in Redis (shared by
every worker) and fails its first ``fail_first`` attempts.
"""
from decimal import Decimal

from pydantic import Field

from webapp.queues import redis_connection
from webapp.steps.base import CostLine, StepContext, StepFailed, StepInputs, StepKind, StepResult
from webapp.steps.registry import register

COUNTER = "flowdeck:test:double:"
COST = Decimal("0.0125")


class DoubleInputs(StepInputs):
    x: int = Field(ge=0, le=10**6)
    fail_first: int = Field(default=0, ge=0, le=100)


@register
class TestDouble(StepKind):
    name = "test.double"
    memoizable = True
    input_schema = DoubleInputs

    def execute(self, inputs: DoubleInputs, context: StepContext) -> StepResult:
        redis_connection().incr(f"{COUNTER}{inputs.x}")
        if context.attempt <= inputs.fail_first:
            raise StepFailed(f"attempt {context.attempt} fails on purpose")
        line = CostLine(kind="test", model=None, units_in=1, units_out=1, unit_price_in=COST,
                        unit_price_out=Decimal("0"), amount=COST)
        return StepResult(output={"double": inputs.x * 2, "attempt": context.attempt}, cost=line)
