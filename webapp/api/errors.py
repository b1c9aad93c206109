"""The one error shape of the JSON API.

``{"error": {"code": "snake_case", "message": "human sentence", "details": {...}}}``.
Domain code raises the neutral errors of ``webapp.exceptions``; ``ApiError`` is for what only
the web layer knows: a malformed body, a missing credential, a rate limit. It carries its own
status and headers. ``webapp/errors.py`` renders both.
"""
from __future__ import annotations

from typing import Any

from flask import Response, jsonify

from webapp.exceptions import DomainError


class ApiError(DomainError):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: dict[str, Any] | None = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message, code=code, details=details)
        self.status = status or self.status
        self.headers = headers or {}


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None,
                   headers: dict[str, str] | None = None) -> Response:
    response = jsonify({"error": {"code": code, "message": message, "details": details or {}}})
    response.status_code = status
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response
