"""Validating a workflow definition (docs/architecture.md): every problem, each naming its step and field.

``validate_definition`` never stops at the first error, so an editor can show them all at
once. Structure is checked first, then each step's ``with`` against its kind's input schema
(values that are templates are checked at run time, after rendering), then the graph: ``needs``
must name existing steps and form no cycle, and a template may only read the outputs of steps
upstream of it and the params the definition declares.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

from anyascii import anyascii
from pydantic import ValidationError

from webapp.steps.registry import all_kinds, get_kind, has_kind
from webapp.workflows import graph
from webapp.workflows.params import schema_errors, type_name
from webapp.workflows.templating import is_template, step_references, syntax_error, template_strings

TOP_FIELDS = frozenset({"name", "description", "params", "max_concurrent_runs", "queue", "steps"})
STEP_FIELDS = frozenset({"id", "name", "uses", "needs", "with", "retry", "timeout", "cache", "queue"})
QUEUE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
QUEUE_RULE = "must be a queue name of 1 to 64 letters, digits, dots, dashes or underscores"
STEP_ID = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
PARAM_REFERENCE = re.compile(r"\bparams\s*\.\s*([A-Za-z_]\w*)")
# Slugs whose workflow page a fixed console route would shadow (``/workflows/new`` is the form).
RESERVED_SLUGS = frozenset({"new"})
MAX_STEPS = 500
MAX_DEPTH = 20
MAX_RETRIES = 20
MAX_TIMEOUT_SECONDS = 24 * 3600
MAX_CACHE_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class DefinitionError:
    step: str | None
    field: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def validate_definition(data: Any) -> list[DefinitionError]:
    """All problems of ``data`` as a definition; an empty list means it is valid."""
    if not isinstance(data, dict):
        return [DefinitionError(None, "definition", f"must be a JSON object, got {type_name(data)}")]
    if _depth(data) > MAX_DEPTH:
        return [DefinitionError(None, "definition", f"is nested deeper than {MAX_DEPTH} levels")]
    errors = [DefinitionError(None, key, f"unknown field (allowed: {', '.join(sorted(TOP_FIELDS))})")
              for key in sorted(set(data) - TOP_FIELDS)]
    errors += _top_level_errors(data)
    steps = data.get("steps")
    if not isinstance(steps, list) or not steps:
        return errors + [DefinitionError(None, "steps", "must be a non-empty list of steps")]
    if len(steps) > MAX_STEPS:
        return errors + [DefinitionError(None, "steps", f"at most {MAX_STEPS} steps are allowed, got {len(steps)}")]
    ids: set[str] = set()
    for index, step in enumerate(steps):
        errors += _step_errors(step, index, ids)
    errors += _unknown_needs_errors(steps, ids)
    needs = {step["id"]: _valid_needs(step, ids) for step in steps if _has_valid_id(step)}
    cycles = graph.cycles(needs)
    errors += [DefinitionError(cycle[0], "needs", "needs form a cycle: " + " -> ".join(cycle + [cycle[0]]))
               for cycle in cycles]
    if not cycles:
        declared = set(data["params"]) if isinstance(data.get("params"), dict) else set()
        errors += _reference_errors(steps, needs, declared)
    return errors


def _depth(value: Any, level: int = 1) -> int:
    if level > MAX_DEPTH:
        return level
    children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
    return max((_depth(child, level + 1) for child in children), default=level)


def _top_level_errors(data: dict[str, Any]) -> list[DefinitionError]:
    errors: list[DefinitionError] = []
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 200:
        errors.append(DefinitionError(None, "name", "is required: a name of 1 to 200 characters"))
    elif not slugify(name):
        errors.append(DefinitionError(None, "name", "needs at least one letter or digit (it becomes the slug)"))
    elif slugify(name) in RESERVED_SLUGS:
        errors.append(DefinitionError(None, "name", f"gives the slug {slugify(name)!r}, which a console page "
                                                    "uses; choose another name"))
    if not isinstance(data.get("description", ""), str) or len(data.get("description", "")) > 2000:
        errors.append(DefinitionError(None, "description", "must be a string of at most 2000 characters"))
    limit = data.get("max_concurrent_runs")
    if limit is not None and (not _is_int(limit) or not 1 <= limit <= 1000):
        errors.append(DefinitionError(None, "max_concurrent_runs", "must be a whole number from 1 to 1000, or null"))
    if not _valid_queue(data.get("queue")):
        errors.append(DefinitionError(None, "queue", QUEUE_RULE))
    errors += [DefinitionError(None, field, message) for field, message in schema_errors(data.get("params", {}))]
    return errors


def _valid_queue(queue: Any) -> bool:
    return queue is None or (isinstance(queue, str) and bool(QUEUE_NAME.match(queue)))


def slugify(name: str) -> str:
    """The workflow's URL name: ``"Daily Digest!"`` -> ``"daily-digest"``,
    ``"Zoë 山田 🚀 Flow"`` -> ``"zoe-shantian-flow"``.

    Letters and digits of every script are transliterated to ASCII (anyascii: ``ë`` -> ``e``,
    ``ß`` -> ``ss``, Cyrillic and Greek by their usual romanisation, CJK ideographs by their
    Mandarin pinyin, so 山田 reads ``shantian`` even in a Japanese name); everything else,
    emoji and punctuation included, only separates words. The name itself keeps its Unicode
    for display. Slugs stay ASCII so they are safe in URLs, shells and RQ queue names.
    """
    letters = "".join(anyascii(char) if unicodedata.category(char)[0] in "LN" else " " for char in name)
    return re.sub(r"[^a-z0-9]+", "-", letters.lower()).strip("-")[:100]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return _is_int(value) or isinstance(value, float)


def _has_valid_id(step: Any) -> bool:
    return isinstance(step, dict) and isinstance(step.get("id"), str) and bool(STEP_ID.match(step["id"]))


def _valid_needs(step: dict[str, Any], ids: set[str]) -> list[str]:
    needs = step.get("needs", [])
    return [need for need in needs if isinstance(need, str) and need in ids] if isinstance(needs, list) else []


def _step_errors(step: Any, index: int, ids: set[str]) -> list[DefinitionError]:
    if not isinstance(step, dict):
        return [DefinitionError(f"#{index + 1}", "step", f"must be an object, got {type_name(step)}")]
    label = step["id"] if isinstance(step.get("id"), str) and step["id"] else f"#{index + 1}"
    errors = [DefinitionError(label, key, f"unknown field (allowed: {', '.join(sorted(STEP_FIELDS))})")
              for key in sorted(set(step) - STEP_FIELDS)]
    if not _has_valid_id(step):
        errors.append(DefinitionError(label, "id", _id_problem(step.get("id"))))
    elif step["id"] in ids:
        errors.append(DefinitionError(label, "id", f"duplicate step id {step['id']!r}"))
    else:
        ids.add(step["id"])
    if not isinstance(step.get("name", ""), str):
        errors.append(DefinitionError(label, "name", "must be a string"))
    errors += _needs_errors(step, label)
    errors += [DefinitionError(label, field, message) for field, message in _policy_errors(step)]
    errors += _with_errors(step, label)
    return errors


def _id_problem(step_id: Any) -> str:
    """Why ``step_id`` is no step id: missing, not text, or text that breaks the rule."""
    rule = "letters, digits and underscores, not starting with a digit, at most 64 characters"
    if step_id is None or step_id == "":
        return f"is required: {rule}"
    if not isinstance(step_id, str):
        return f"must be a string of {rule}, got {type_name(step_id)}"
    return f"{step_id[:80]!r} is not a valid step id: use {rule}"


def _needs_errors(step: dict[str, Any], label: str) -> list[DefinitionError]:
    """Shape only; whether the named steps exist is known once every id was read."""
    needs = step.get("needs", [])
    if not isinstance(needs, list) or not all(isinstance(need, str) for need in needs):
        return [DefinitionError(label, "needs", "must be a list of step ids")]
    if len(set(needs)) != len(needs):
        return [DefinitionError(label, "needs", "lists a step more than once")]
    return []


def _policy_errors(step: dict[str, Any]) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    retry = step.get("retry")
    if retry is not None:
        if not isinstance(retry, dict):
            errors.append(("retry", 'must be an object like {"max": 3, "backoff": [1, 5, 30]}'))
        else:
            errors += [(f"retry.{key}", "unknown field (allowed: backoff, max)")
                       for key in sorted(set(retry) - {"max", "backoff"})]
            if not _is_int(retry.get("max")) or not 0 <= retry["max"] <= MAX_RETRIES:
                errors.append(("retry.max", f"is required: a whole number of retries from 0 to {MAX_RETRIES}"))
            backoff = retry.get("backoff", [])
            if not isinstance(backoff, list) or len(backoff) > MAX_RETRIES or not all(
                    _is_number(delay) and 0 <= delay <= MAX_TIMEOUT_SECONDS for delay in backoff):
                errors.append(("retry.backoff", f"must be a list of at most {MAX_RETRIES} delays in seconds, "
                                                f"each from 0 to {MAX_TIMEOUT_SECONDS}"))
    if not _valid_queue(step.get("queue")):
        errors.append(("queue", QUEUE_RULE))
    timeout = step.get("timeout")
    if timeout is not None and (not _is_number(timeout) or not 0 < timeout <= MAX_TIMEOUT_SECONDS):
        errors.append(("timeout", f"must be a number of seconds above 0 and at most {MAX_TIMEOUT_SECONDS}"))
    cache = step.get("cache")
    if cache is not None:
        if not isinstance(cache, dict) or "ttl" not in cache or not set(cache) <= {"ttl", "refresh"} \
                or not _is_int(cache["ttl"]) or not 0 < cache["ttl"] <= MAX_CACHE_TTL_SECONDS \
                or not isinstance(cache.get("refresh", False), bool):
            errors.append(("cache", f'must be {{"ttl": seconds}} with 1 to {MAX_CACHE_TTL_SECONDS} seconds, '
                                    f'and optionally "refresh": true to recompute and replace the cached result'))
        elif isinstance(step.get("uses"), str) and has_kind(step["uses"]) and not get_kind(step["uses"]).memoizable:
            errors.append(("cache", f"{step['uses']} is not memoizable, so it cannot be cached"))
    return errors


def _with_errors(step: dict[str, Any], label: str) -> list[DefinitionError]:
    uses = step.get("uses")
    inputs = step.get("with", {})
    errors: list[DefinitionError] = []
    if not isinstance(inputs, dict):
        errors.append(DefinitionError(label, "with", f"must be an object of inputs, got {type_name(inputs)}"))
        inputs = {}
    for path, text in template_strings(inputs, "with"):
        problem = syntax_error(text)
        if problem:
            errors.append(DefinitionError(label, path, problem))
    if not isinstance(uses, str) or not uses:
        return errors + [DefinitionError(label, "uses", "is required: the name of a step kind")]
    if not has_kind(uses):
        known = ", ".join(kind.name for kind in all_kinds())
        return errors + [DefinitionError(label, "uses", f"unknown step kind {uses!r} (known kinds: {known})")]
    try:
        get_kind(uses).input_schema.model_validate(inputs)
    except ValidationError as error:
        for item in error.errors(include_url=False, include_input=False):
            if item["type"] != "extra_forbidden" and _templated_at(inputs, item["loc"]):
                continue
            path = ".".join(["with", *(str(part) for part in item["loc"])])
            errors.append(DefinitionError(label, path, item["msg"].removeprefix("Value error, ")))
    return errors


def _templated_at(inputs: Any, loc: tuple[Any, ...]) -> bool:
    """Whether the value at ``loc`` (or one of its parents) is a template, known only at run time."""
    value = inputs
    for part in loc:
        if is_template(value):
            return True
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return False
    return is_template(value)


def _unknown_needs_errors(steps: list[Any], ids: set[str]) -> list[DefinitionError]:
    return [DefinitionError(step["id"], f"needs[{index}]", f"refers to an unknown step {need!r}")
            for step in steps if _has_valid_id(step) and isinstance(step.get("needs"), list)
            for index, need in enumerate(step["needs"]) if isinstance(need, str) and need not in ids]


def _reference_errors(steps: list[Any], needs: dict[str, list[str]], declared: set[str]) -> list[DefinitionError]:
    errors: list[DefinitionError] = []
    for step in steps:
        if not _has_valid_id(step):
            continue
        upstream = graph.ancestors(needs, step["id"])
        with_ = step.get("with") if isinstance(step.get("with"), dict) else {}
        for path, text in template_strings(with_, "with"):
            for ref in sorted(step_references(text).names - upstream):
                errors.append(DefinitionError(step["id"], path, f"reads steps.{ref}, which is not upstream of this "
                                                                f"step; add {ref!r} to needs"))
            for ref in sorted(set(PARAM_REFERENCE.findall(text)) - declared):
                errors.append(DefinitionError(step["id"], path, f"reads params.{ref}, which is not declared in params"))
    return errors
