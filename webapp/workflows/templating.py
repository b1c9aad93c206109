"""Rendering ``with`` inputs in Jinja's sandbox (docs/security.md §29).

Templates see ``params``, ``steps.<id>.output`` and ``run``, nothing else, in the sandbox of
``webapp.workflows.sandbox`` (no internals, bounded result sizes). A string that is exactly one
``{{ expression }}`` keeps the expression's native type, so ``"{{ params.count }}"`` stays an
integer and ``"{{ steps.fetch.output }}"`` stays an object; any other string renders to text.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateError, Undefined, nodes

from webapp.steps.base import StepFailed
from webapp.workflows.sandbox import MAX_RESULT_LENGTH, LimitedSandbox

SINGLE_EXPRESSION = re.compile(r"^\s*\{\{(?P<expr>.*?)\}\}\s*$", re.DOTALL)


class RenderError(StepFailed):
    """A template failed at run time (undefined name, sandbox refusal, type error)."""


_env = LimitedSandbox(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def is_template(value: Any) -> bool:
    return isinstance(value, str) and ("{{" in value or "{%" in value or "{#" in value)


def make_scope(params: dict[str, Any], outputs: dict[str, Any], run: dict[str, Any] | None = None) -> dict[str, Any]:
    """The template scope: ``outputs`` maps completed step ids to their outputs."""
    return {"params": params, "steps": {step: {"output": output} for step, output in outputs.items()},
            "run": run or {}}


def syntax_error(text: str) -> str | None:
    """The syntax problem in ``text`` as a sentence, or None when it parses."""
    match = SINGLE_EXPRESSION.match(text)
    try:
        if match and "{{" not in match.group("expr"):
            _env.compile_expression(match.group("expr"))
        else:
            _env.parse(text)
    except TemplateError as error:
        line = f" (line {error.lineno})" if getattr(error, "lineno", None) else ""
        return f"template syntax error{line}: {error.message or error}"
    return None


@dataclass(frozen=True)
class StepReferences:
    """The steps whose outputs templates read by name (``steps.x`` or ``steps['x']``), and
    whether they also use ``steps`` some other way (``steps[name]``, a loop, a filter, a method
    such as ``steps.get(name)``), which may read any step."""

    names: frozenset[str]
    indirect: bool


def step_references(value: Any) -> StepReferences:
    """What the templates in ``value`` (a ``with`` mapping, a list or a string) read of ``steps``.
    Templates that do not parse read nothing (they fail before they read)."""
    names: set[str] = set()
    indirect = False
    for _path, text in template_strings(value):
        try:
            tree = _env.parse(text)
        except TemplateError:
            continue
        uses = sum(1 for node in tree.find_all(nodes.Name) if node.name == "steps")
        called = {id(call.node) for call in tree.find_all(nodes.Call)}  # steps.get(...) is a method
        named = [name for node in (*tree.find_all(nodes.Getattr), *tree.find_all(nodes.Getitem))
                 if isinstance(node.node, nodes.Name) and node.node.name == "steps" and id(node) not in called
                 and (name := _static_name(node))]
        names.update(named)
        indirect = indirect or uses > len(named)
    return StepReferences(frozenset(names), indirect)


def _static_name(node: nodes.Getattr | nodes.Getitem) -> str | None:
    if isinstance(node, nodes.Getattr):
        return node.attr
    return node.arg.value if isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str) else None


def template_strings(value: Any, path: str = "with"):
    """Every template string in ``value`` with its path, e.g. ``("with.headers.X", "{{ ... }}")``."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from template_strings(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from template_strings(item, f"{path}[{index}]")
    elif is_template(value):
        yield path, value


def render_value(text: str, scope: dict[str, Any]) -> Any:
    match = SINGLE_EXPRESSION.match(text)
    if match and "{{" not in match.group("expr"):
        return _env.compile_expression(match.group("expr"), undefined_to_none=False)(**scope)
    parts: list[str] = []
    length = 0
    for part in _env.from_string(text).generate(**scope):  # streamed, so a loop cannot build gigabytes
        length += len(part)
        if length > MAX_RESULT_LENGTH:
            raise TemplateError(f"the rendered text is longer than {MAX_RESULT_LENGTH} characters")
        parts.append(part)
    return "".join(parts)


def render_inputs(with_: dict[str, Any], scope: dict[str, Any]) -> dict[str, Any]:
    """Render every string in ``with_`` (recursively); errors name the field, as ``RenderError``."""
    return _render(with_, scope, "with")


def _render(value: Any, scope: dict[str, Any], path: str) -> Any:
    if isinstance(value, dict):
        return {key: _render(item, scope, f"{path}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [_render(item, scope, f"{path}[{index}]") for index, item in enumerate(value)]
    if not is_template(value):
        return value
    try:
        rendered = render_value(value, scope)
        if isinstance(rendered, Undefined):
            rendered._fail_with_undefined_error()
    except TemplateError as error:
        raise RenderError(f"{path}: {error.message or error}") from None
    except (TypeError, ValueError, ArithmeticError, LookupError, RecursionError) as error:
        raise RenderError(f"{path}: {type(error).__name__}: {error}") from None
    return rendered
