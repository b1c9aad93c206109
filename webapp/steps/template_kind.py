"""``template.render``: the engine renders ``with`` in the sandbox, so the output is that string."""
from __future__ import annotations

from pydantic import Field

from webapp.steps.base import StepContext, StepInputs, StepKind, StepResult
from webapp.steps.registry import register


class TemplateInputs(StepInputs):
    template: str = Field(max_length=100_000)


@register
class TemplateRender(StepKind):
    name = "template.render"
    memoizable = True
    input_schema = TemplateInputs
    description = "Renders a Jinja template with params and earlier outputs; the output is the text."

    def execute(self, inputs: TemplateInputs, context: StepContext) -> StepResult:
        return StepResult(output=inputs.template)
