"""``/api/v3/workflows``: definitions and their versions (viewer reads, operator writes)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from flask import Blueprint, jsonify
from flask_login import current_user
from pydantic import Field

from webapp.api.inputs import Body, Query, parse_body, parse_query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page, row_id, text
from webapp.extensions import db
from webapp.security import require_role
from webapp.workflows import service

bp = Blueprint("workflows_api", __name__, url_prefix="/workflows")
ARCHIVED_FILTER = {"false": False, "true": True, "all": None}


class DefinitionBody(Body):
    """``definition`` is an object, or JSON/YAML text; its own checks give the field-level errors."""

    definition: Any = Field(description="The workflow definition (see docs/architecture.md), as an object or "
                                        "JSON/YAML text.")


class WorkflowListQuery(Query):
    archived: Literal["false", "true", "all"] = "false"
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class VersionListQuery(Query):
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


def _cursor_key(cursor: str | None, part: Callable[[Any], Any]) -> Any:
    """The single sort key inside a cursor (a slug or a version number), if there is a cursor."""
    return None if cursor is None else decode_cursor(cursor, (part,))[0]


def _workflow_response(workflow, status: int = 200):
    body = {"workflow": service.to_dict(workflow, version=service.get_version(workflow))}
    return jsonify(body), status


@bp.get("")
@require_role("viewer")
def list_workflows():
    query = parse_query(WorkflowListQuery)
    rows = service.list_workflows(archived=ARCHIVED_FILTER[query.archived], after=_cursor_key(query.cursor, text),
                                  limit=query.limit)
    return jsonify(page(rows, query.limit, key=lambda row: [row.slug], render=service.to_dict))


@bp.post("")
@require_role("operator")
def create_workflow():
    body = parse_body(DefinitionBody)
    workflow = service.create_workflow(body.definition, actor=current_user)
    db.session.commit()
    return _workflow_response(workflow, 201)


@bp.post("/validate")
@require_role("viewer")
def validate_workflow():
    """Check a definition without saving it; problems come back as data, not as an error status."""
    body = parse_body(DefinitionBody)
    errors = service.check_definition(body.definition)
    return jsonify({"valid": not errors, "errors": errors})


@bp.get("/<slug>")
@require_role("viewer")
def get_workflow(slug: str):
    return _workflow_response(service.get_workflow(slug))


@bp.put("/<slug>")
@require_role("operator")
def update_workflow(slug: str):
    """A changed definition becomes a new version (200); an identical one changes nothing."""
    body = parse_body(DefinitionBody)
    workflow, _created = service.update_workflow(slug, body.definition, actor=current_user)
    db.session.commit()
    return _workflow_response(workflow)


@bp.delete("/<slug>")
@require_role("operator")
def archive_workflow(slug: str):
    workflow = service.archive_workflow(slug, actor=current_user)
    db.session.commit()
    return _workflow_response(workflow)


@bp.get("/<slug>/versions")
@require_role("viewer")
def list_versions(slug: str):
    query = parse_query(VersionListQuery)
    workflow = service.get_workflow(slug)
    rows = service.list_versions(workflow, before=_cursor_key(query.cursor, row_id), limit=query.limit)
    return jsonify(page(rows, query.limit, key=lambda row: [row.version], render=service.version_to_dict))
