"""Reading JSON request bodies and query strings into validated pydantic models.

Malformed JSON or a body that is not an object is 400 ``malformed_json``; a well-formed body
with a wrong field (type, size, range, unknown enum value, unknown field) is 422
``validation_failed`` with ``details.fields`` mapping each field path to a sentence. Models use
strict types so ``"password": ["a"]`` is an error, never a 500 deeper down.

Text that no database column can hold is refused at the door, for every route: a query string
that is not UTF-8 (raw or percent-encoded) is 400 ``invalid_encoding`` before any view runs,
and a JSON body whose keys or values hold a NUL or a lone surrogate (``"\ud800"``, legal JSON
but not encodable as UTF-8) is 422 naming the field.
"""
from __future__ import annotations

import json
import re
from typing import Annotated, Any, TypeVar
from urllib.parse import unquote_to_bytes

from flask import Flask, request
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from werkzeug.routing import IntegerConverter

from webapp.api.errors import ApiError
from webapp.exceptions import InvalidInput

Model = TypeVar("Model", bound=BaseModel)

# Primary keys are PostgreSQL ``integer``: a larger id can match nothing, and sending it to the
# database would fail with "integer out of range" (a 500) instead of a clear answer.
MAX_DB_ID = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: ids beyond the database's range are a 404 like any unknown id."""

    def __init__(self, url_map, *args, **kwargs) -> None:
        kwargs.setdefault("max", MAX_DB_ID)
        super().__init__(url_map, *args, **kwargs)


class Body(BaseModel):
    """Base for request bodies: strict types, unknown fields refused, strings stripped of nothing."""

    model_config = ConfigDict(strict=True, extra="forbid")


class Query(BaseModel):
    """Base for query strings: values arrive as text, so lax coercion ("20" -> 20), extras refused."""

    model_config = ConfigDict(extra="forbid")


def field_errors(error: ValidationError) -> dict[str, str]:
    fields: dict[str, str] = {}
    for item in error.errors(include_url=False, include_input=False):
        path = ".".join(str(part) for part in item["loc"]) or "body"
        fields.setdefault(path, item["msg"])
    return fields


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


def _validate(model: type[Model], data: Any, what: str) -> Model:
    bad = unstorable_field(data)
    if bad is not None:
        field, message = bad
        raise InvalidInput(f"The {what} is not valid ({field}: {message}).", details={"fields": {field: message}})
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = field_errors(error)
        summary = "; ".join(f"{name}: {message}" for name, message in list(fields.items())[:3])
        raise InvalidInput(f"The {what} is not valid ({summary}).", details={"fields": fields}) from None


def check_query_encoding() -> None:
    """Refuse a query string that is not UTF-8, raw or once percent-decoded.

    Werkzeug would raise on raw bytes (a 500) and silently turn bad escapes into U+FFFD, so a
    filter would quietly match something else; neither is what the caller sent.
    """
    raw = request.environ.get("QUERY_STRING", "").encode("latin-1", "replace")
    try:
        raw.decode("utf-8")
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        raise ApiError("The query string is not valid UTF-8.", code="invalid_encoding", status=400) from None


def init_input_checks(app: Flask) -> None:
    app.before_request(check_query_encoding)


def parse_body(model: type[Model]) -> Model:
    """Validate the JSON body against ``model``; an empty body counts as ``{}``."""
    raw = request.get_data(cache=True)
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ApiError("The request body is not valid JSON.", code="malformed_json", status=400) from None
    except RecursionError:
        raise ApiError("The request body is nested too deeply.", code="malformed_json", status=400) from None
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.", code="malformed_json", status=400)
    return _validate(model, data, "request body")


def parse_query(model: type[Model]) -> Model:
    return _validate(model, request.args.to_dict(), "query string")
