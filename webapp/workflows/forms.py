"""The trigger form, generated from a definition's ``params`` schema, and reading it back.

HTML forms only send strings, so each param type gets the input that can express it (number
inputs, a checkbox, a JSON textarea for objects and arrays) and the submitted text is turned
back into that type here. What cannot be read (``"abc"`` for an integer, broken JSON) is an
error on that field; everything else — required params, types, unknown names — is left to the
engine's own ``validate_trigger_params``, so the page and the API accept exactly the same params.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

INPUT_TYPES = {"string": "text", "integer": "number", "number": "number", "boolean": "checkbox",
               "object": "json", "array": "json"}


@dataclass(frozen=True)
class ParamField:
    name: str
    type: str
    required: bool
    description: str
    input: str  # text, number, checkbox or json (a textarea)
    value: str  # what the input shows: the default, or what the operator typed
    checked: bool = False

    @property
    def step(self) -> str:
        return "1" if self.type == "integer" else "any"


def _shown(value: Any, kind: str) -> str:
    if value is None:
        return ""
    if kind in ("object", "array"):
        return json.dumps(value, indent=2)
    return str(value)


def trigger_fields(schema: Mapping[str, Any], submitted: Mapping[str, str] | None = None) -> list[ParamField]:
    """One field per param in definition order, showing the defaults or the submitted values."""
    fields = []
    for name, spec in schema.items():
        kind = spec["type"]
        default = spec.get("default")
        if submitted is None:
            value, checked = _shown(default, kind), default is True
        else:
            value, checked = submitted.get(name, ""), submitted.get(name) == "true"
        fields.append(ParamField(name=name, type=kind, required=bool(spec.get("required")),
                                 description=spec.get("description", ""), input=INPUT_TYPES[kind],
                                 value=value, checked=checked))
    return fields


def _read(kind: str, text: str) -> Any:
    """The typed value of one submitted field; ``ValueError`` with a sentence when it cannot be read."""
    if kind == "string":
        return text
    if kind == "boolean":
        return text == "true"
    if kind == "integer":
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError(f"must be a whole number, got {text!r}") from None
    if kind == "number":
        try:
            number = float(text.strip())
        except ValueError:
            raise ValueError(f"must be a number, got {text!r}") from None
        if number != number or number in (float("inf"), float("-inf")):
            raise ValueError("must be a finite number")
        return number
    try:
        return json.loads(text)
    except ValueError as error:
        raise ValueError(f"is not valid JSON ({error.msg} at line {error.lineno})") from None


def read_trigger_form(schema: Mapping[str, Any], form: Mapping[str, str]) -> tuple[dict[str, Any], dict[str, str]]:
    """``(params, field errors)`` from a submitted trigger form.

    An empty text field is left out, so a default applies and a required param is reported
    missing by the engine; a checkbox always has a value (unchecked is ``false``).
    """
    params: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name, spec in schema.items():
        kind = spec["type"]
        text = form.get(name, "")
        if kind != "boolean" and not text.strip() and not (kind == "string" and text):
            continue
        try:
            params[name] = _read(kind, text)
        except ValueError as error:
            errors[name] = str(error)
    return params, errors
