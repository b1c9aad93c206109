"""Turning what a caller sent (an object, or JSON/YAML text) into a definition dict.

Everything that is not plain JSON is refused here with a clear 4xx: YAML aliases (a
"billion laughs" would expand on serialisation), YAML dates, NaN/Infinity (PostgreSQL's JSON
rejects them), nesting too deep to parse, and definitions over
``WORKFLOW_MAX_DEFINITION_BYTES`` (413). YAML results go through JSON once, so keys such as
``1:`` become the strings JSON would make of them.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any

import yaml
from flask import current_app

from webapp.exceptions import InvalidInput, TooLarge
from webapp.storable import unstorable_field


class _NoAliasLoader(yaml.SafeLoader):
    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise yaml.composer.ComposerError(None, None, "YAML aliases are not accepted in definitions",
                                              event.start_mark)
        return super().compose_node(parent, index)


def _too_large(size: int) -> TooLarge:
    limit = current_app.config["WORKFLOW_MAX_DEFINITION_BYTES"]
    return TooLarge(f"The definition is {size} bytes; the limit is {limit} bytes (WORKFLOW_MAX_DEFINITION_BYTES).",
                    code="definition_too_large", details={"limit": limit, "size": size})


def _not_loadable(message: str) -> InvalidInput:
    return InvalidInput(f"The definition {message}.",
                            details={"errors": [{"step": None, "field": "definition", "message": message}]})


def canonical_json(definition: Any, *, sort_keys: bool = True) -> str:
    """Sorted, compact JSON: the stored form's fingerprint and its size."""
    try:
        return json.dumps(definition, sort_keys=sort_keys, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise _not_loadable(f"holds a value that is not JSON ({error})") from None
    except RecursionError:
        raise _not_loadable("is nested too deeply") from None


def definition_hash(definition: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_json(definition).encode()).hexdigest()


def _parse_text(text: str) -> Any:
    """JSON first (YAML refuses the tab indentation JSON allows), then YAML."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        pass
    except RecursionError:
        raise _not_loadable("is nested too deeply") from None
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # noqa: S506 (a SafeLoader subclass)
    except yaml.YAMLError as error:
        where = f" at line {error.problem_mark.line + 1}" if getattr(error, "problem_mark", None) else ""
        problem = getattr(error, "problem", None) or str(error)
        raise _not_loadable(f"is neither valid JSON nor YAML{where}: {problem}") from None
    except RecursionError:
        raise _not_loadable("is nested too deeply") from None


def load_definition(raw: Any) -> Any:
    """A definition from an object or from JSON/YAML text; size-checked, JSON types only."""
    limit = current_app.config["WORKFLOW_MAX_DEFINITION_BYTES"]
    if isinstance(raw, str):
        if len(raw.encode()) > limit:
            raise _too_large(len(raw.encode()))
        raw = json.loads(canonical_json(_parse_text(raw), sort_keys=False))  # keeps the author's key order
    if bad := unstorable_field(raw):  # e.g. a "\ud800" escape in the text
        raise _not_loadable(f"holds text that cannot be stored ({bad[0]}: {bad[1]})")
    size = len(canonical_json(raw).encode())
    if size > limit:
        raise _too_large(size)
    return raw
