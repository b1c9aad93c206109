"""``template.render``: the engine renders ``with`` in the sandbox, so the output is that string."""
from __future__ import annotations

import json
from typing import Any

from pydantic import Field, field_validator

from webapp.steps.base import StepContext, StepInputs, StepKind, StepResult
from webapp.steps.registry import register


class TemplateInputs(StepInputs):
    template: str = Field(max_length=1_000_000)

    @field_validator("template", mode="before")
    @classmethod
    def text_of_native_values(cls, value: Any) -> Any:
        """``"{{ steps.x.output }}"`` renders to the value itself; this step outputs it as JSON text."""
        return value if isinstance(value, str) else json.dumps(value)


@register
class TemplateRender(StepKind):
    name = "template.render"
    memoizable = True
    input_schema = TemplateInputs
    description = "Renders a Jinja template with params and earlier outputs; the output is the text."

    def execute(self, inputs: TemplateInputs, context: StepContext) -> StepResult:
        return StepResult(output=inputs.template)
