"""The Jinja sandbox that workflow templates render in, with limits on result size.

Jinja's ``SandboxedEnvironment`` already refuses internals (``__class__``, ``mro``, ...) and
ranges over 100,000 items. It does not bound memory, so this subclass refuses the operations
whose result grows with a number or a repetition in the template: ``*`` and ``**`` with large
operands, padding and format widths of a million or more (``'x'.ljust(10**9)``,
``'%999999999s'``, the ``center``/``indent``/``format`` filters), and ``replace`` whose result
would pass ``MAX_RESULT_LENGTH``. CPU time is bounded by the step's timeout, not here.
"""
from __future__ import annotations

import functools
import re
from typing import Any

from jinja2 import filters
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_RESULT_LENGTH = 1_000_000
MAX_EXPONENT = 1000
# A width or precision of seven or more digits, or taken from the arguments (``%*s``), in a
# printf conversion (``%9999999s``) or a ``str.format`` spec (``{:>9999999}``).
HUGE_FORMAT_WIDTH = re.compile(r"%(\([^)]*\))?[-#0 +]*(\*|\d{7,}|\d*\.(\*|\d{7,}))|\{[^{}]*:[^{}]*\d{7,}[^{}]*\}")


def _check_number(value: Any) -> None:
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= MAX_RESULT_LENGTH:
        raise SecurityError(f"the number {value} is too large for a template (limit {MAX_RESULT_LENGTH})")


def _check_format(text: Any) -> None:
    if isinstance(text, str) and HUGE_FORMAT_WIDTH.search(text):
        raise SecurityError("format widths of a million or more, or taken from arguments, are refused")


def _check_replace(text: Any, old: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(old, str) and isinstance(new, str):
        grown = len(text) + (text.count(old) if old else len(text) + 1) * len(new)
        if grown > MAX_RESULT_LENGTH:
            raise SecurityError(f"replace would give more than {MAX_RESULT_LENGTH} characters")


def _checked_filter(name: str):
    """Wrap a size-sensitive built-in filter; ``wraps`` keeps Jinja's pass-context marker."""
    original = filters.FILTERS[name]

    @functools.wraps(original)
    def checked(*args: Any, **kwargs: Any) -> Any:
        for value in [*args, *kwargs.values()]:
            _check_number(value)
        strings = [arg for arg in args if isinstance(arg, str)]
        if name == "format" and strings:
            _check_format(strings[0])
        if name == "replace" and len(strings) >= 3:
            _check_replace(*strings[:3])
        return original(*args, **kwargs)

    return checked


class LimitedSandbox(SandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        for name in ("center", "indent", "format", "replace"):
            self.filters[name] = _checked_filter(name)

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int | float) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponent {right} is larger than {MAX_EXPONENT}")
        if operator == "*" and isinstance(left, str | list) != isinstance(right, str | list):
            sized, count = (left, right) if isinstance(left, str | list) else (right, left)
            if isinstance(count, int) and len(sized) * count > MAX_RESULT_LENGTH:
                raise SecurityError(f"repeating gives more than {MAX_RESULT_LENGTH} items")
        if operator == "%":
            _check_format(left)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):  # ljust, center, zfill, expandtabs ... grow with a number
            for value in [*args, *kwargs.values()]:
                _check_number(value)
            if getattr(__obj, "__name__", "") == "replace" and len(args) >= 2:
                _check_replace(owner, args[0], args[1])
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any):
        """``str.format`` reaches templates through this wrapper, not through ``call``."""
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        _check_format(value.__self__)

        def checked(*args: Any, **kwargs: Any) -> str:
            for argument in [*args, *kwargs.values()]:
                _check_number(argument)
            return wrapped(*args, **kwargs)

        return checked
