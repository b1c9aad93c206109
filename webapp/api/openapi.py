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

from webapp.security import public

bp = Blueprint("openapi", __name__)

PARSERS = {"parse_body": "body", "parse_query": "query"}
CONVERTER_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}}
PATH_PARAM = re.compile(r"<(?:(?P<converter>[^:<>]+):)?(?P<name>[^<>]+)>")
ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "details": {"type": "object"}}}},
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
    components.update(schema.pop("$defs", {}))
    return schema


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
             "schema": CONVERTER_TYPES.get(match["converter"] or "", {"type": "string"})}
            for match in PATH_PARAM.finditer(rule.rule)
        ],
        "responses": {
            "2XX": {"description": "Success"},
            "default": {"description": "Error", "content": {"application/json": {"schema": ERROR_SCHEMA}}},
        },
    }
    if len(doc.splitlines()) > 1:
        operation["description"] = doc
    models = validated_models(view)
    if "query" in models:
        query = _schema(models["query"], components)
        operation["parameters"] += [
            {"name": name, "in": "query", "required": name in query.get("required", []), "schema": prop}
            for name, prop in query.get("properties", {}).items()
        ]
    if "body" in models:
        operation["requestBody"] = {"required": False, "content": {"application/json": {
            "schema": _schema(models["body"], components)}}}
    return operation


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
    return {
        "openapi": "3.1.0",
        "info": {"title": "Flowdeck API", "version": "3",
                 "description": "Workflow control plane. Errors are {\"error\": {code, message, details}}."},
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
