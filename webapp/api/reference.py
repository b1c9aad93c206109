"""What the OpenAPI document adds for readers of ``/api/docs``: the role in words, the error
codes an operation can answer with (each with an example body), and examples of the request
body and of each success answer.

The codes follow from what the route declares, so they cannot drift from it: a non-public
route can answer 401 (no or a bad token) and, above viewer, 403; a route with an id in its path
404; a route that reads a body 400 (unreadable), 413 (too large) and 422 (a rule broken); one
that reads a query string 400 and 422. The shared ``default`` response still covers the rest
(409, 429...). An example is built from its JSON Schema: the required fields only, each from
its ``examples``/``default``/``enum`` or a value of its type within its bounds.
"""
from __future__ import annotations

from typing import Any

ERRORS = {
    400: ("bad_request", "The body is not valid JSON."),
    401: ("unauthenticated", "Sign in first: send Authorization: Bearer <access token>."),
    403: ("forbidden", "This needs the operator role."),
    404: ("not_found", "No run 42."),
    413: ("too_large", "The body is over the 524288-byte limit."),
    422: ("invalid_input", "The body breaks a rule; details.fields names each field."),
}
DESCRIPTIONS = {400: "Unreadable body or query string", 401: "Not signed in", 403: "Signed in without the role",
                404: "No such object", 413: "Body over the size limit", 422: "Validation failed"}
SAMPLE_STRINGS = {"date-time": "2026-01-01T00:00:00Z", "date": "2026-01-01", "email": "operator@example.com",
                  "uri": "https://example.com/hook", "password": "correct horse battery staple"}


def error_codes(access: str, has_path_id: bool, reads: set[str]) -> dict[str, Any]:
    codes: set[int] = set()
    if access != "public":
        codes.add(401)
        if access in ("operator", "admin"):
            codes.add(403)
    if has_path_id:
        codes.add(404)
    if "body" in reads:
        codes |= {400, 413, 422}
    if "query" in reads:
        codes |= {400, 422}
    return {str(code): error_response(code) for code in sorted(codes)}


def error_response(code: int) -> dict[str, Any]:
    from webapp.api.openapi import ERROR_SCHEMA

    name, message = ERRORS[code]
    if code == 403:
        message = "This needs a higher role (see x-required-role)."
    return {"description": DESCRIPTIONS[code],
            "content": {"application/json": {"schema": ERROR_SCHEMA,
                                              "example": {"error": {"code": name, "message": message, "details": {}}}}}}


def role_sentence(access: str) -> str:
    if access == "public":
        return "**Role:** none (public)."
    return f"**Role:** {access} or above (Bearer token)."


def example_of(schema: dict[str, Any], components: dict[str, Any], depth: int = 0, name: str = "") -> Any:
    """A value that the schema accepts, for the reader: required fields only. ``name`` (the
    property's) picks a telling sample for text fields the schema leaves unformatted."""
    if "$ref" in schema:
        return example_of(components[schema["$ref"].rsplit("/", 1)[-1]], components, depth + 1)
    for key in ("examples", "enum"):
        if schema.get(key):
            return schema[key][0]
    if "const" in schema:
        return schema["const"]
    if "default" in schema and schema["default"] is not None:
        return schema["default"]
    if "allOf" in schema:  # every part holds: one object with the fields of them all
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(part, components, depth + 1)
            if isinstance(value, dict):
                merged.update(value)
        return merged
    for key in ("anyOf", "oneOf"):
        options = [option for option in schema.get(key, []) if option.get("type") != "null"]
        if options:
            return example_of(options[0], components, depth + 1)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        if depth > 12:  # a recursive schema ends in {}
            return {}
        properties = schema.get("properties", {})
        return {field: example_of(properties.get(field, {}), components, depth + 1, field)
                for field in schema.get("required", [])}
    if kind == "array":
        return [example_of(schema.get("items", {}), components, depth + 1)
                for _ in range(schema.get("minItems", 1 if depth == 0 else 0))]
    if kind == "integer":
        return max(schema.get("minimum", 1), 1) if schema.get("maximum", 1) >= 1 else schema.get("minimum", 0)
    if kind == "number":
        return float(schema.get("minimum", 1))
    if kind == "boolean":
        return True
    if kind == "string":
        hint = next((kind for kind in ("email", "password", "url") if kind in name), "")
        sample = SAMPLE_STRINGS.get(schema.get("format", "") or {"url": "uri"}.get(hint, hint), "example")
        return (sample * (schema.get("minLength", 0) // len(sample) + 1))[:max(schema.get("maxLength", 1000),
                                                                              schema.get("minLength", 0))]
    return None
