"""``llm.complete``: one completion from the configured provider, priced from ``LLM_PRICES``."""
from __future__ import annotations

from decimal import Decimal

from pydantic import Field

from webapp.steps.base import CostLine, StepContext, StepInputs, StepKind, StepResult
from webapp.steps.llm_providers import cost_of, count_tokens, current_provider, price_for
from webapp.steps.registry import register


class LlmInputs(StepInputs):
    model: str = Field(min_length=1, max_length=100)
    prompt: str = Field(min_length=1, max_length=200_000)
    max_tokens: int = Field(default=256, ge=1, le=32_000)


@register
class LlmComplete(StepKind):
    """Memoizable: the same model and prompt may reuse an earlier answer (and save its cost)."""

    name = "llm.complete"
    memoizable = True
    input_schema = LlmInputs
    description = "Asks the configured LLM provider for a completion; cost = tokens x the model's price."

    def estimate_cost(self, inputs: LlmInputs) -> Decimal | None:
        """Upper bound: the prompt's tokens in, ``max_tokens`` out."""
        return cost_of(price_for(inputs.model), count_tokens(inputs.prompt), inputs.max_tokens)

    def execute(self, inputs: LlmInputs, context: StepContext) -> StepResult:
        price = price_for(inputs.model)
        provider = current_provider()
        completion = provider.complete(inputs.model, inputs.prompt, inputs.max_tokens)
        cost = CostLine(kind="llm", model=inputs.model, units_in=completion.tokens_in,
                        units_out=completion.tokens_out, unit_price_in=price.per_1k_in / 1000,
                        unit_price_out=price.per_1k_out / 1000,
                        amount=cost_of(price, completion.tokens_in, completion.tokens_out))
        output = {"text": completion.text, "model": inputs.model, "provider": provider.name,
                  "tokens_in": completion.tokens_in, "tokens_out": completion.tokens_out}
        return StepResult(output=output, cost=cost)
