"""``python.call``: runs a function from the ``python_functions`` registry with JSON arguments."""
from __future__ import annotations

import inspect
import json
from typing import Any

from pydantic import Field, field_validator

from webapp.steps.base import StepContext, StepFailed, StepInputs, StepKind, StepResult
from webapp.steps.python_functions import function_names, get_function
from webapp.steps.registry import register


class PythonCallInputs(StepInputs):
    function: str = Field(min_length=1, max_length=100)
    args: list[Any] = Field(default_factory=list)
    kwargs: dict[str, Any] = Field(default_factory=dict)

    @field_validator("function")
    @classmethod
    def registered_only(cls, name: str) -> str:
        if get_function(name) is None:
            raise ValueError(f"{name!r} is not a registered function (registered: {', '.join(function_names())})")
        return name


@register
class PythonCall(StepKind):
    name = "python.call"
    memoizable = False
    input_schema = PythonCallInputs
    description = "Calls a registered Python function with args and kwargs; the output is its JSON result."

    def execute(self, inputs: PythonCallInputs, context: StepContext) -> StepResult:
        function = get_function(inputs.function)
        if function is None:  # unregistered since validation (plugin removed): refuse, never import
            raise StepFailed(f"{inputs.function!r} is not a registered function", retryable=False)
        try:
            inspect.signature(function).bind(*inputs.args, **inputs.kwargs)
        except TypeError as error:
            raise StepFailed(f"wrong arguments for {inputs.function}: {error}", retryable=False) from None
        try:
            result = function(*inputs.args, **inputs.kwargs)
        except Exception as error:  # the function's own failure is this step's failure
            raise StepFailed(f"{inputs.function} raised {type(error).__name__}: {error}") from None
        try:
            json.dumps(result)
        except (TypeError, ValueError):
            raise StepFailed(f"{inputs.function} returned {type(result).__name__}, which is not JSON") from None
        return StepResult(output=result)
