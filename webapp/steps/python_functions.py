"""Functions that ``python.call`` may run: only names registered here (docs/security.md §29).

A definition can never name an arbitrary import path; plugins add functions with
``@register_function("name")``. Arguments and results must be JSON values.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

_functions: dict[str, Callable[..., Any]] = {}
WORD = re.compile(r"\w+")


def register_function(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        existing = _functions.get(name)
        if existing is not None and existing is not function:
            raise ValueError(f"python.call function {name!r} is already registered")
        _functions[name] = function
        return function

    return decorate


def get_function(name: str) -> Callable[..., Any] | None:
    return _functions.get(name)


def function_names() -> list[str]:
    return sorted(_functions)


@register_function("add")
def add(*numbers: int | float) -> int | float:
    """Sum of the numbers given."""
    if not all(isinstance(n, int | float) and not isinstance(n, bool) for n in numbers):
        raise TypeError("add takes numbers only")
    return sum(numbers)


@register_function("echo")
def echo(value: Any = None) -> Any:
    """Returns its argument unchanged; handy for wiring and tests."""
    return value


@register_function("count_words")
def count_words(text: str) -> dict[str, int]:
    """Words and characters in a text."""
    if not isinstance(text, str):
        raise TypeError("count_words takes a string")
    return {"words": len(WORD.findall(text)), "characters": len(text)}
