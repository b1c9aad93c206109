"""Text that no database column can store, found wherever it hides in a decoded value.

Neutral (no Flask, no HTTP), so the API's door and the domain's own loaders share one rule.
"""
from __future__ import annotations

import re
from typing import Any

# NUL: PostgreSQL text refuses it. Lone surrogates: no UTF-8 encoding exists for them.
UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_problem(text: str) -> str | None:
    """Why ``text`` cannot be stored, or None."""
    match = UNSTORABLE.search(text)
    if match is None:
        return None
    return "must not contain NUL characters" if match.group() == "\x00" else "must be valid Unicode text"


def unstorable_field(data: Any, path: str = "") -> tuple[str, str] | None:
    """``(path, sentence)`` of the first text (key or value) that no text column can hold
    (wherever the value ends up, storing it would be a 500); None if clean. Iterative, so a
    deeply nested body cannot exhaust the stack here."""
    pending = [(path, data)]
    while pending:
        where, value = pending.pop()
        if isinstance(value, str) and (problem := text_problem(value)):
            return where or "body", problem
        if isinstance(value, dict):
            for key, item in value.items():
                name = f"{where}.{key}" if where else str(key)
                if problem := text_problem(str(key)):
                    return name, problem
                pending.append((name, item))
        elif isinstance(value, list):
            pending.extend((f"{where}.{index}", item) for index, item in enumerate(value))
    return None
