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
from datetime import datetime
from typing import Annotated, Any, TypeVar, get_args
from urllib.parse import unquote_to_bytes

from flask import Flask, current_app, request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, NaiveDatetime, ValidationError
from werkzeug.exceptions import NotFound as HttpNotFound
from werkzeug.exceptions import RequestEntityTooLarge
from werkzeug.routing import IntegerConverter

from webapp.api.errors import ApiError
from webapp.exceptions import InvalidInput
from webapp.storable import unstorable_field

Model = TypeVar("Model", bound=BaseModel)

# Primary keys are PostgreSQL ``integer``: a larger id can match nothing, and sending it to the
# database would fail with "integer out of range" (a 500) instead of a clear answer.
MAX_DB_ID = 2**31 - 1
DbId = Annotated[int, Field(ge=1, le=MAX_DB_ID)]


class IdConverter(IntegerConverter):
    """``<int:...>`` in routes: ids beyond the database's range are a 404 like any unknown id.

    The 404 is raised while matching rather than by declining the match (a converter's
    ``max``): a declined match falls through to the other rules of the path and came out as
    405 on POST/PATCH/DELETE but 404 on GET. Raised here it is the same on every method.
    """

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        if number > MAX_DB_ID:
            raise HttpNotFound()
        return number


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
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is None and limit is not None and len(raw) >= limit:
        # A chunked body has no length to refuse up front, and Werkzeug's reader stops at the
        # limit without saying so: what we hold is a cut-off prefix, which would read as bad JSON.
        raise RequestEntityTooLarge()
    try:
        data = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise ApiError("The request body is not valid JSON.", code="malformed_json", status=400) from None
    except RecursionError:
        raise ApiError("The request body is nested too deeply.", code="malformed_json", status=400) from None
    if not isinstance(data, dict):
        raise ApiError("The request body must be a JSON object.", code="malformed_json", status=400)
    return _validate(model, data, "request body")


ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def _holds_time(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, datetime | AwareDatetime | NaiveDatetime):
        return True
    return any(_holds_time(argument) for argument in get_args(annotation))


def parse_query(model: type[Model]) -> Model:
    """Validate the query string; times must be ISO 8601 text, as the document says.

    Pydantic's lax mode would also read ``since=0.5`` as half a second after 1970, which
    nobody means and which the OpenAPI ``date-time`` format refuses.
    """
    args = request.args.to_dict()
    for name, field in model.model_fields.items():
        value = args.get(name)
        if value and _holds_time(field.annotation) and not ISO_DATE.match(value):
            message = "must be an ISO 8601 date-time such as 2026-01-31T09:30:00Z"
            raise InvalidInput(f"The query string is not valid ({name}: {message}).",
                               details={"fields": {name: message}})
    return _validate(model, args, "query string")
