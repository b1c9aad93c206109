"""Workflows and their immutable versions: create, update, archive, import, list, read.

Callers (API, CLI, the run engine) share these functions; they raise the domain errors of
``webapp.exceptions`` and never commit, so the audit row and the ``workflow.*`` outbox event commit with the action.
Saving an unchanged definition (same canonical JSON) adds no version, which makes imports
idempotent.
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from webapp.audit.service import record
from webapp.events.service import publish
from webapp.exceptions import Conflict, InvalidInput, NotFound
from webapp.extensions import db
from webapp.formatting import iso
from webapp.workflows.definition import slugify, validate_definition
from webapp.workflows.loading import definition_hash, load_definition
from webapp.workflows.models import Workflow, WorkflowVersion
from webapp.workflows.params import check_params


def check_definition(raw: Any) -> list[dict[str, Any]]:
    """All validation errors of ``raw`` (object or JSON/YAML text) as dicts; [] when valid.

    Text that does not parse is one more validation error here; only size is still a 413.
    """
    try:
        definition = load_definition(raw)
    except InvalidInput as error:
        return error.details["errors"]
    return [error.to_dict() for error in validate_definition(definition)]


def valid_definition(raw: Any) -> dict[str, Any]:
    """The definition if valid, else ``InvalidInput`` listing every error in ``details.errors``."""
    definition = load_definition(raw)
    errors = [error.to_dict() for error in validate_definition(definition)]
    if errors:
        summary = "; ".join(f"{e['step'] + '.' if e['step'] else ''}{e['field']}: {e['message']}" for e in errors[:3])
        more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
        raise InvalidInput(f"The definition has {len(errors)} problem(s): {summary}{more}.",
                               details={"errors": errors})
    return definition


def get_workflow(slug: str, *, for_update: bool = False) -> Workflow:
    query = select(Workflow).where(Workflow.slug == slug)
    workflow = db.session.scalar(query.with_for_update() if for_update else query)
    if workflow is None:
        raise NotFound(f"There is no workflow {slug!r}.")
    return workflow


def get_version(workflow: Workflow, number: int | None = None) -> WorkflowVersion:
    """A version of ``workflow``; the current one when ``number`` is None. Runs pin this row."""
    wanted = workflow.current_version if number is None else number
    version = db.session.scalar(select(WorkflowVersion).where(
        WorkflowVersion.workflow_id == workflow.id, WorkflowVersion.version == wanted))
    if version is None:
        raise NotFound(f"Workflow {workflow.slug!r} has no version {wanted}.")
    return version


def create_workflow(raw: Any, actor=None) -> Workflow:
    definition = valid_definition(raw)
    slug = slugify(definition["name"])
    if db.session.scalar(select(Workflow.id).where(Workflow.slug == slug)) is not None:
        raise Conflict(f"A workflow {slug!r} already exists; PUT /api/v3/workflows/{slug} to add a version.")
    workflow = Workflow(slug=slug, name=definition["name"], current_version=0, created_by=_actor_id(actor))
    db.session.add(workflow)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Conflict(f"A workflow {slug!r} was just created by someone else.") from None
    _add_version(workflow, definition, actor)
    _announce("create", workflow, actor)
    return workflow


def update_workflow(slug: str, raw: Any, actor=None) -> tuple[Workflow, bool]:
    """Save a new version; returns ``(workflow, created)``, ``created`` False when unchanged."""
    workflow = get_workflow(slug, for_update=True)
    if workflow.archived:
        raise Conflict(f"Workflow {slug!r} is archived; archived workflows take no new versions.")
    definition = valid_definition(raw)
    if not workflow.keeps_slug(definition["name"]):
        problem = {"step": None, "field": "name",
                   "message": f"must give the slug {slug!r}, got {slugify(definition['name'])!r}"}
        raise InvalidInput(f"The definition's name must keep the slug {slug!r}.", details={"errors": [problem]})
    if get_version(workflow).definition_hash == definition_hash(definition):
        return workflow, False
    _add_version(workflow, definition, actor)
    _announce("update", workflow, actor)
    return workflow, True


def archive_workflow(slug: str, actor=None) -> Workflow:
    """Archived workflows stay readable (runs point at them) but are hidden and take no versions."""
    workflow = get_workflow(slug, for_update=True)
    if not workflow.archived:
        workflow.archived = True
        _announce("archive", workflow, actor)
    return workflow


def import_workflow(raw: Any, actor=None) -> tuple[Workflow, str]:
    """Create or update from a file; the outcome is created, updated, unchanged or archived."""
    definition = valid_definition(raw)
    slug = slugify(definition["name"])
    existing = db.session.scalar(select(Workflow).where(Workflow.slug == slug))
    if existing is None:
        return create_workflow(definition, actor), "created"
    if existing.archived:
        return existing, "archived"
    workflow, created = update_workflow(slug, definition, actor)
    return workflow, "updated" if created else "unchanged"


def list_workflows(*, archived: bool | None, after: str | None, limit: int) -> list[Workflow]:
    """Up to ``limit + 1`` workflows by slug after the cursor's slug (keyset)."""
    query = select(Workflow).order_by(Workflow.slug).limit(limit + 1)
    if archived is not None:
        query = query.where(Workflow.archived.is_(archived))
    if after is not None:
        query = query.where(Workflow.slug > after)
    return list(db.session.scalars(query))


def list_versions(workflow: Workflow, *, before: int | None, limit: int) -> list[WorkflowVersion]:
    """Newest first, up to ``limit + 1`` versions older than ``before``."""
    query = (select(WorkflowVersion).where(WorkflowVersion.workflow_id == workflow.id)
             .order_by(WorkflowVersion.version.desc()).limit(limit + 1))
    if before is not None:
        query = query.where(WorkflowVersion.version < before)
    return list(db.session.scalars(query))


def validate_trigger_params(definition: dict[str, Any], params: Any) -> dict[str, Any]:
    """Trigger params checked against the definition's schema, defaults filled in.

    Raises ``InvalidInput`` (422) with ``details.errors = [{"param", "message"}, ...]``.
    """
    resolved, errors = check_params(definition.get("params", {}), params)
    if errors:
        summary = "; ".join(f"{e['param']}: {e['message']}" for e in errors[:3])
        raise InvalidInput(f"The params are not valid ({summary}).", details={"errors": errors})
    return resolved


def _add_version(workflow: Workflow, definition: dict[str, Any], actor) -> WorkflowVersion:
    workflow.current_version += 1
    workflow.name = definition["name"]
    workflow.description = definition.get("description", "")
    workflow.max_concurrent_runs = definition.get("max_concurrent_runs")
    version = WorkflowVersion(workflow_id=workflow.id, version=workflow.current_version, definition=definition,
                              definition_hash=definition_hash(definition), created_by=_actor_id(actor))
    db.session.add(version)
    db.session.flush()
    return version


def _announce(action: str, workflow: Workflow, actor) -> None:
    """Audit the operator's action and publish the domain event, both in the caller's transaction."""
    record(f"workflow.{action}", actor=actor, target_type="workflow", target_id=workflow.slug,
           details={"version": workflow.current_version})
    publish(f"workflow.{action}d", {"workflow_id": workflow.id, "slug": workflow.slug,
                                     "version": workflow.current_version, "actor_id": _actor_id(actor)})


def _actor_id(actor) -> int | None:
    return actor if isinstance(actor, int) or actor is None else actor.id


def to_dict(workflow: Workflow, *, version: WorkflowVersion | None = None) -> dict[str, Any]:
    data = {
        "slug": workflow.slug, "name": workflow.name, "description": workflow.description,
        "current_version": workflow.current_version, "archived": workflow.archived,
        "max_concurrent_runs": workflow.max_concurrent_runs, "created_by": workflow.created_by,
        "created_at": iso(workflow.created_at), "updated_at": iso(workflow.updated_at),
    }
    if version is not None:
        data["definition"] = version.definition
    return data


def version_to_dict(version: WorkflowVersion) -> dict[str, Any]:
    return {"version": version.version, "definition": version.definition, "definition_hash": version.definition_hash,
            "created_by": version.created_by, "created_at": iso(version.created_at)}
