"""``GET /api/v3/openapi.json``: the API described from the routes themselves.

Paths, methods and path parameters come from ``app.url_map``; the role from each view's
``access`` declaration (webapp.security); the summary from its docstring; request bodies and
query parameters from the pydantic model the view passes to ``parse_body``/``parse_query``.
The model is read from the view's own code rather than repeated in a decorator, so the document
cannot drift from what the view really validates.
"""
from __future__ import annotations

import ast
import inspect
import re
import textwrap
from typing import Any

from flask import Blueprint, Flask, current_app, jsonify
from pydantic import BaseModel
from werkzeug.routing import Rule

from webapp.api import reference, response_schemas
from webapp.api.inputs import MAX_DB_ID
from webapp.security import public

bp = Blueprint("openapi", __name__)

PARSERS = {"parse_body": "body", "parse_query": "query"}
CONVERTER_TYPES = {"int": {"type": "integer", "minimum": 0, "maximum": MAX_DB_ID}, "float": {"type": "number"}}
PATH_PARAM = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")
TEXT_PATTERN = "^[^\\u0000]*$"
CURSOR_DESCRIPTION = ("Opaque: pass the `next_cursor` of the previous page unchanged (URL-safe base64 of the "
                      "last row's sort key, no padding). A cursor the server did not issue is 400 invalid_cursor.")
API_DESCRIPTION = """Workflow control plane.

Errors are `{"error": {"code", "message", "details"}}`. Under 500 and 503, `details.request_id`
names the server's log line. 400 is a body or query string that cannot be read (malformed JSON,
not UTF-8, a bad cursor); 422 is a readable one that breaks a rule, with `details.fields`
naming each field; 413 is a body over the size limit, declared or chunked.

Bodies are strict: an integer field takes a JSON integer only (not `1.0`, `"1"` or `true`), and
unknown fields are refused. Query strings are text, so `limit=20` is read as a number.

409 comes in two codes. `illegal_state`: the object's current state refuses the action
(cancelling a finished run, approving a step that is not waiting); `details.state` names the
state. Anything else is a clash with other data: `conflict`, or a more precise code such as
`email_taken` or `last_admin`.

Ids are positive 32-bit integers; a larger id matches nothing and is 404 on every method."""
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
}

# A route without a declared success answer (a plugin's, a test's) still documents that it has one.
UNDECLARED_SUCCESS = {"2XX": {"description": "Success"}}
RESPONSES = {
    "5XX": {"description": "Server error (500) or a dependency unavailable (503, with Retry-After when the "
                           "database is down). A health probe's 503 is its report, documented on the probe.",
            "content": {"application/json": {"schema": ERROR_SCHEMA}}},
    "default": {"description": "Error. A request line over the HTTP server's limit (gunicorn: 4094 bytes by "
                               "default) is refused by the server itself with a plain HTML 400.",
                "content": {"application/json": {"schema": ERROR_SCHEMA}, "text/html": {}}},
}


def validated_models(view) -> dict[str, type[BaseModel]]:
    """Which models the view hands to ``parse_body``/``parse_query``, found in its source."""
    target = inspect.unwrap(view)
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(target)))
    except (OSError, TypeError):
        return {}
    models: dict[str, type[BaseModel]] = {}
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in PARSERS
                and node.args and isinstance(node.args[0], ast.Name)):
            model = target.__globals__.get(node.args[0].id)
            if isinstance(model, type) and issubclass(model, BaseModel):
                models[PARSERS[node.func.id]] = model
    return models


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    definitions = schema.pop("$defs", {})
    for part in (schema, *definitions.values()):
        _no_nul_in_text(part)
    components.update(definitions)
    return schema


def _no_nul_in_text(schema: Any) -> None:
    """Say in every free-text schema what the door refuses: NUL, which no text column holds."""
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if node.get("type") == "string" and not {"pattern", "format", "enum", "const"} & node.keys():
                node["pattern"] = TEXT_PATTERN
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)


def _operation(rule: Rule, view, components: dict[str, Any]) -> dict[str, Any]:
    doc = inspect.getdoc(inspect.unwrap(view)) or ""
    access = getattr(view, "access", "public")
    operation: dict[str, Any] = {
        "operationId": rule.endpoint.replace(".", "_"),
        "summary": doc.splitlines()[0] if doc else rule.endpoint.rsplit(".", 1)[-1].replace("_", " "),
        "tags": [rule.endpoint.split(".")[-2] if rule.endpoint.count(".") >= 1 else "api"],
        "x-required-role": access,
        "security": [] if access == "public" else [{"bearerAuth": []}],
        "parameters": [
            {"name": match["name"], "in": "path", "required": True,
             "schema": CONVERTER_TYPES.get(match["converter"] or "", {"type": "string", "pattern": TEXT_PATTERN})}
            for match in PATH_PARAM.finditer(rule.rule)
        ],
        "responses": RESPONSES,
    }
    if len(doc.splitlines()) > 1:
        operation["description"] = doc
    models = validated_models(view)
    # /api/docs (webapp/api/reference.py): the role in words, the error codes, an example body.
    parts = [reference.role_sentence(access), operation.get("description")]
    operation["description"] = "\n\n".join(part for part in parts if part)
    operation["responses"] = {**success_responses(rule.endpoint, components),
                              **reference.error_codes(access, "<" in rule.rule, set(models)), **RESPONSES}
    if "query" in models:
        query = _schema(models["query"], components)
        operation["parameters"] += [_query_parameter(name, prop, name in query.get("required", []))
                                    for name, prop in query.get("properties", {}).items()]
    if "body" in models:
        body = _schema(models["body"], components)
        # An empty body counts as {}: it is acceptable exactly when the model requires nothing.
        operation["requestBody"] = {"required": bool(body.get("required")),
                                    "content": {"application/json": {"schema": body}}}
        operation["requestBody"]["content"]["application/json"]["example"] = reference.example_of(body, components)
    return operation


def success_responses(endpoint: str, components: dict[str, Any]) -> dict[str, Any]:
    """The operation's success statuses (webapp/api/response_schemas.py), each with its body's
    schema and an example built from it; an empty body (204) has no content."""
    answers = response_schemas.SUCCESS.get(endpoint)
    if answers is None:
        return UNDECLARED_SUCCESS
    components.update(response_schemas.COMPONENTS)
    responses: dict[str, Any] = {}
    for status, name in sorted(answers.items()):
        responses[str(status)] = {"description": response_schemas.DESCRIPTIONS[status]}
        if name is not None:
            schema = response_schemas.ref(name)
            responses[str(status)]["content"] = {"application/json": {
                "schema": schema, "example": reference.example_of(schema, components)}}
    return responses


def _query_parameter(name: str, schema: dict[str, Any], required: bool) -> dict[str, Any]:
    parameter = {"name": name, "in": "query", "required": required, "schema": schema}
    if name == "cursor":
        parameter["description"] = CURSOR_DESCRIPTION
    elif "description" in schema:
        parameter["description"] = schema["description"]
    return parameter


def _add_shadowed_methods(app: Flask, path: str, operations: dict[str, Any], components: dict[str, Any]) -> None:
    """A fixed path that a templated rule also matches (``/workflows/validate`` is a valid
    ``/workflows/{slug}``) answers that rule's other methods too, and its Allow header says so;
    document them here, with the path parameter fixed by the path itself."""
    adapter = app.url_map.bind("")
    documented = {method.upper() for method in operations} | {"HEAD", "OPTIONS"}
    for method in sorted(set(adapter.allowed_methods(path)) - documented):
        endpoint, _ = adapter.match(path, method=method)
        other = next(r for r in app.url_map.iter_rules(endpoint) if method in r.methods)
        operation = _operation(other, app.view_functions[endpoint], components)
        operation["operationId"] += "_at_" + path.rsplit("/", 1)[-1].replace("-", "_")
        operation["parameters"] = [p for p in operation["parameters"] if p["in"] != "path"]
        operations[method.lower()] = operation


def build_document(app: Flask) -> dict[str, Any]:
    components: dict[str, Any] = {}
    paths: dict[str, dict[str, Any]] = {}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if not rule.rule.startswith("/api/v3/"):
            continue
        view = app.view_functions[rule.endpoint]
        path = PATH_PARAM.sub(lambda m: "{" + m["name"] + "}", rule.rule)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            paths.setdefault(path, {})[method.lower()] = _operation(rule, view, components)
    for path, operations in paths.items():
        if "{" not in path:
            _add_shadowed_methods(app, path, operations, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flowdeck API", "version": "3",
                 "description": API_DESCRIPTION},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


@bp.get("/openapi.json")
@public
def openapi_document():
    """This document: every /api/v3 route with its role, parameters and body schema."""
    extensions = current_app.extensions
    if "flowdeck_openapi" not in extensions:
        extensions["flowdeck_openapi"] = build_document(current_app)
    return jsonify(extensions["flowdeck_openapi"])
