"""Errors answer in the caller's language: JSON under /api, an HTML page elsewhere.

No stack trace ever reaches the client; a 500 rolls the database session back and is logged
with its request id, which the error body repeats so an operator can find the log line.

A database that cannot be reached (refused or dropped connection, pool exhausted) is a 503
with ``Retry-After``, not a 500: the request may well succeed in a few seconds. Pages after a
500 or 503 are rendered for an anonymous visitor: the signed-in user would be loaded from the
very database that just failed (and a rolled-back session has expired every loaded row), so
the error page would fail in turn and the browser would get the server's bare 500.
"""
from __future__ import annotations

import logging
import re

from flask import Flask, current_app, g, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException, InternalServerError, ServiceUnavailable

from webapp import logs
from webapp.api import API_PREFIX
from webapp.api.errors import ApiError, error_response
from webapp.audit.context import client_ip
from webapp.exceptions import BudgetExceeded, Conflict, DomainError, IllegalTransition, InvalidInput, NotFound, TooLarge
from webapp.extensions import db

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path == API_PREFIX or request.path.startswith(API_PREFIX + "/")


def snake_code(exc: HTTPException) -> str:
    return re.sub(r"[^a-z0-9]+", "_", (exc.name or "error").lower()).strip("_")


MESSAGES = {
    404: "Nothing exists at this address.",
    405: "This method is not allowed here.",
    413: "The request body is larger than this server accepts.",
    500: "Something went wrong on our side. It has been logged.",
}
DATABASE_RETRY_SECONDS = 5


class DatabaseUnavailable(ServiceUnavailable):
    name = "Database unavailable"
    description = "The database is unavailable right now. Try again in a few seconds."


def handle_http_exception(exc: HTTPException):
    status = exc.code or 500
    message = MESSAGES.get(status, exc.description or exc.name)
    headers = {name: value for name, value in exc.get_headers() if name.lower() != "content-type"}
    if wants_json():
        details = {"request_id": logs.current("request_id")} if status >= 500 else {}
        return error_response(status, snake_code(exc), message, details, headers)
    return render_template("errors/error.html", status=status, title=exc.name, message=message,
                           request_id=logs.current("request_id")), status, headers


# The one place where a domain error becomes an HTTP status; the most specific class wins.
STATUS_OF: dict[type[DomainError], int] = {
    NotFound: 404, Conflict: 409, InvalidInput: 422, TooLarge: 413, BudgetExceeded: 402,
}


def status_for(exc: DomainError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    return next((STATUS_OF[cls] for cls in type(exc).__mro__ if cls in STATUS_OF), 400)


def error_code(exc: DomainError) -> str:
    """One 409 family: a generic conflict that names the refusing state is a state refusal."""
    if type(exc) is Conflict and exc.code == Conflict.code and "state" in exc.details:
        return IllegalTransition.code
    return exc.code


def handle_domain_error(exc: DomainError):
    status = status_for(exc)
    headers = exc.headers if isinstance(exc, ApiError) else {}
    code = error_code(exc)
    if wants_json():
        return error_response(status, code, exc.message, exc.details, headers)
    return render_template("errors/error.html", status=status, title=code.replace("_", " ").capitalize(),
                           message=exc.message, request_id=logs.current("request_id")), status, headers


def database_unreachable(exc: Exception) -> bool:
    """A lost or refused connection, as opposed to a bug in a query (which stays a 500)."""
    if isinstance(exc, PoolTimeout | OperationalError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def forget_user() -> None:
    """Render what follows for an anonymous visitor, so no template loads the user from the database."""
    g._login_user = current_app.login_manager.anonymous_user()


def handle_unexpected(exc: Exception):
    try:
        db.session.rollback()
    except Exception:  # noqa: BLE001 (a dead connection may refuse even the rollback)
        log.warning("rollback after an error failed too", exc_info=True)
    forget_user()
    if database_unreachable(exc):
        log.error("database unavailable on %s %s from %s: %s", request.method, request.path, client_ip(),
                  type(exc.__cause__ or exc).__name__)
        return handle_http_exception(DatabaseUnavailable(retry_after=DATABASE_RETRY_SECONDS))
    log.exception("unhandled error on %s %s from %s", request.method, request.path, client_ip())
    return handle_http_exception(InternalServerError())


def register_errorhandlers(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(HTTPException, handle_http_exception)
    app.register_error_handler(Exception, handle_unexpected)
