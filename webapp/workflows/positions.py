"""Which line of the editor's text each validation error is about, so the editor can mark it.

Errors name a step and a field (``{"step": "fetch", "field": "with.url"}``), not a position:
positions belong to the text, not to the definition. This module finds them again by composing
the text with PyYAML, which keeps a line for every node, for YAML and for JSON alike (JSON is
YAML's flow style). It walks the field's path as far as the text has it: a missing ``uses`` is
marked on its step's first line, an unknown ``needs[1]`` on that item. Text that does not
parse is marked on the line where parsing stopped. Nothing here decides validity.
"""
from __future__ import annotations

import re
from typing import Any

import yaml

PATH_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def _compose(text: str) -> tuple[yaml.Node | None, int | None]:
    """The node tree, or the 1-based line where the text stops parsing."""
    try:
        return yaml.compose(text, Loader=yaml.SafeLoader), None
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return None, (mark.line + 1) if mark else 1
    except (yaml.YAMLError, RecursionError):
        return None, 1


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, int] | None:
    """The value under ``part`` and the line that names it (a key's line, or an item's)."""
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode) and key.value == part:
                return value, key.start_mark.line + 1
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
        item = node.value[part]
        return item, item.start_mark.line + 1
    return None


def _walk(node: yaml.Node, parts: list[str | int]) -> int:
    line = node.start_mark.line + 1
    for part in parts:
        found = _child(node, part)
        if found is None:
            break
        node, line = found
    return line


def _step_node(root: yaml.Node, label: str, message: str) -> yaml.Node | None:
    found = _child(root, "steps")
    if found is None or not isinstance(found[0], yaml.SequenceNode):
        return None
    items = found[0].value
    if label.startswith("#") and label[1:].isdigit():
        index = int(label[1:]) - 1
        return items[index] if index < len(items) else None
    named = [item for item in items if (id_node := _child(item, "id")) and id_node[0].value == label]
    if not named:
        return None
    return named[1] if message.startswith("duplicate step id") and len(named) > 1 else named[0]


def _parts(field: str) -> list[str | int]:
    return [int(index) if index else key for key, index in PATH_PART.findall(field)]


def error_lines(text: str, errors: list[dict[str, Any]]) -> list[int]:
    """A 1-based line for each of ``errors`` (same order), best effort, never failing."""
    root, broken_at = _compose(text)
    if root is None:
        return [broken_at or 1 for _ in errors]
    lines = []
    for error in errors:
        field = error.get("field") or ""
        if error.get("step"):
            step = _step_node(root, error["step"], error.get("message", ""))
            lines.append(_walk(step, _parts(field)) if step is not None else _walk(root, ["steps"]))
        elif field == "definition":
            lines.append(1)
        else:
            lines.append(_walk(root, _parts(field)))
    return lines
