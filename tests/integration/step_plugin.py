"""A step plugin module, as a deployment would name in STEP_PLUGINS."""
from webapp.steps.base import StepInputs, StepKind, StepResult
from webapp.steps.registry import register


class ShoutInputs(StepInputs):
    text: str


@register
class Shout(StepKind):
    name = "test.shout"
    memoizable = True
    input_schema = ShoutInputs

    def execute(self, inputs, context):
        return StepResult(output=inputs.text.upper() + "!")
