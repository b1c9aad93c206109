"""The errors that domain code raises: what went wrong, in the domain's own words.

Engine, state, workflow and service code raise these and know nothing of HTTP. One table in
``webapp/errors.py`` turns each kind into a status for the JSON API and the HTML pages, so
"a run that cannot be cancelled" is a 409 everywhere without the engine saying so.
"""
from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every expected failure: a machine-readable ``code``, a sentence, and details."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.details = details or {}


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The thing exists but its state does not allow the request."""

    code = "conflict"


class IllegalTransition(Conflict):
    """A state change that the run or step machine refuses."""

    code = "illegal_state"


class InvalidInput(DomainError):
    """Input that parsed but breaks a rule; ``details`` names the fields."""

    code = "validation_failed"


class TooLarge(DomainError):
    code = "too_large"


class BudgetExceeded(DomainError):
    """Spending would pass a budget whose policy refuses it."""

    code = "budget_exceeded"
