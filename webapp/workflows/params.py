"""The ``params`` schema of a definition, and checking a trigger's params against it.

A param is ``{"type": ..., "required": bool, "default": ..., "description": str}`` with the
JSON types string, integer, number, boolean, object, array. An optional param without a
default is ``None`` in the run, so ``{% if params.x %}`` works without an undefined error.
"""
from __future__ import annotations

import copy
import math
import re
from typing import Any

PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
PARAM_FIELDS = frozenset({"type", "required", "default", "description"})
MAX_PARAMS = 100


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_integer(value: Any) -> bool:
    """A 64-bit integer: what PostgreSQL, JavaScript clients (as BigInt) and most step kinds
    keep exact. A larger one is refused rather than silently becoming a float like ``1e+26``."""
    return _is_int(value) and INT64_MIN <= value <= INT64_MAX


def _is_number(value: Any) -> bool:
    return (_is_integer(value) or isinstance(value, float)) and math.isfinite(value)


TYPE_CHECKS = {
    "string": lambda value: isinstance(value, str),
    "integer": _is_integer,
    "number": _is_number,
    "boolean": lambda value: isinstance(value, bool),
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
}


def type_name(value: Any) -> str:
    """The JSON name of a Python value's type, for messages."""
    if _is_int(value) and not _is_integer(value):
        return "an integer outside the 64-bit range"
    for name in ("boolean", "integer", "number", "string", "object", "array"):
        if TYPE_CHECKS[name](value):
            return name
    return "null" if value is None else type(value).__name__


def schema_errors(params: Any) -> list[tuple[str, str]]:
    """Problems in a ``params`` schema as ``(field, message)``; field is ``params.<name>.<key>``."""
    if not isinstance(params, dict):
        return [("params", f"must be an object of param names to specs, got {type_name(params)}")]
    if len(params) > MAX_PARAMS:
        return [("params", f"at most {MAX_PARAMS} params are allowed, got {len(params)}")]
    errors: list[tuple[str, str]] = []
    for name, spec in params.items():
        where = f"params.{name}"
        if not PARAM_NAME.match(name):
            errors.append((where, "a param name is letters, digits and underscores, not starting with a digit"))
        if not isinstance(spec, dict):
            errors.append((where, f"must be an object like {{\"type\": \"string\"}}, got {type_name(spec)}"))
            continue
        errors.extend((f"{where}.{key}", "unknown field (allowed: default, description, required, type)")
                      for key in sorted(set(spec) - PARAM_FIELDS))
        kind = spec.get("type") if isinstance(spec.get("type"), str) else None
        if kind not in TYPE_CHECKS:
            errors.append((f"{where}.type", f"must be one of {', '.join(TYPE_CHECKS)}, got {spec.get('type')!r}"))
        if not isinstance(spec.get("required", False), bool):
            errors.append((f"{where}.required", "must be true or false"))
        if not isinstance(spec.get("description", ""), str):
            errors.append((f"{where}.description", "must be a string"))
        if "default" in spec:
            if spec.get("required") is True:
                errors.append((f"{where}.default", "a required param cannot have a default"))
            elif kind in TYPE_CHECKS and not TYPE_CHECKS[kind](spec["default"]):
                errors.append((f"{where}.default", f"must be {kind}, got {type_name(spec['default'])}"))
    return errors


def check_params(params_schema: dict[str, Any], given: Any) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """Trigger params against a valid schema: ``(params with defaults filled, errors)``.

    Each error is ``{"param": name, "message": sentence}``; every problem is reported.
    """
    if not isinstance(given, dict):
        return {}, [{"param": "params", "message": f"params must be an object, got {type_name(given)}"}]
    errors = [{"param": name, "message": "is not a param of this workflow (declared: "
               + (", ".join(sorted(params_schema)) or "none") + ")"}
              for name in sorted(set(given) - set(params_schema))]
    resolved: dict[str, Any] = {}
    for name, spec in params_schema.items():
        if name not in given:
            if spec.get("required"):
                errors.append({"param": name, "message": f"is required ({spec['type']})"})
            resolved[name] = copy.deepcopy(spec.get("default"))
            continue
        value = given[name]
        if _is_int(value) and not _is_integer(value) and spec["type"] in ("integer", "number"):
            errors.append({"param": name, "message": f"must be between {INT64_MIN} and {INT64_MAX} "
                                                     "(a 64-bit integer)"})
        elif not TYPE_CHECKS[spec["type"]](value):
            errors.append({"param": name, "message": f"must be {spec['type']}, got {type_name(value)}"})
        resolved[name] = value
    return resolved, errors
