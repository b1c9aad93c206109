"""``/workflows``: the list, the definition editor, a workflow's page with its trigger form, and
version history. Every action calls the same service function as the API (which audits it);
the editor's live validation answers htmx with the ``validation`` block of the editor template.
"""
from __future__ import annotations

import re

from flask import Blueprint, current_app, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.console.dag_svg import render_svg
from webapp.errors import status_for
from webapp.exceptions import DomainError, InvalidInput, NotFound
from webapp.extensions import db
from webapp.fragments import render_block
from webapp.runs import actions
from webapp.runs.service import runs_query
from webapp.security import require_role
from webapp.workflows import pages, service
from webapp.workflows.forms import read_trigger_form, trigger_fields

bp = Blueprint("workflows", __name__, url_prefix="/workflows")
SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,99}")
PAGE_SIZE = 50
RECENT_RUN_COUNT = 20
STARTER = """name: my-workflow
description: What this workflow is for.
params:
  topic: {type: string, required: true}
steps:
  - id: draft
    uses: template.render
    with: {template: "Notes about {{ params.topic }}"}
"""


def workflow_or_404(slug: str):
    """The workflow named in the URL; text that cannot be a slug is a 404 before any query."""
    if not SLUG.fullmatch(slug):
        raise NotFound(f"There is no workflow {slug!r}.")
    return service.get_workflow(slug)


@bp.get("")
@require_role("viewer")
def index():
    after = request.args.get("after", "")
    after = after if SLUG.fullmatch(after) else None
    rows = service.list_workflows(archived=False, after=after, limit=PAGE_SIZE)
    workflows, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    return render_template("workflows/list.html", workflows=workflows,
                           stats=pages.workflow_stats([workflow.id for workflow in workflows]),
                           next_after=workflows[-1].slug if more else None,
                           format_duration=pages.format_duration, recent_runs=pages.RECENT_RUNS)


def editor(text: str, *, workflow=None, status: int = 200, problem: str | None = None):
    """The editor page. A refused save's ``problem`` shows inside the validation block, so the
    first live check after an edit replaces it; a name that is taken is explained there with a
    link to that workflow's editor instead."""
    check = pages.validation(text, workflow) if text.strip() else None
    if check is not None and check["taken"] is not None and status == 409:
        problem = None
    return render_template("workflows/editor.html", text=text, workflow=workflow, problem=problem, check=check,
                           reference=pages.step_reference(),
                           max_bytes=current_app.config["WORKFLOW_MAX_DEFINITION_BYTES"]), status


def save(action, text: str, workflow=None):
    """Run a save action; a refused definition goes back to the editor with its errors."""
    try:
        saved = action()
    except DomainError as error:  # 422 invalid, 409 name taken or archived, 413 too large
        db.session.rollback()
        return editor(text, workflow=workflow, status=status_for(error), problem=error.message)
    db.session.commit()
    return redirect(url_for("workflows.detail", slug=saved.slug))


@bp.get("/new")
@require_role("operator")
def new():
    return editor(STARTER)


@bp.post("/new")
@require_role("operator")
def create():
    text = request.form.get("definition", "")
    return save(lambda: service.create_workflow(text, actor=current_user), text)


@bp.post("/validate")
@require_role("operator")
def validate():
    """Live validation while typing: only the block, never saved. The edit page sends its slug,
    so a name that would change the workflow's slug is flagged before saving."""
    slug = request.form.get("slug")
    check = pages.validation(request.form.get("definition", ""), workflow_or_404(slug) if slug else None)
    return render_block("workflows/editor.html", "validation", check=check)


@bp.get("/<slug>/edit")
@require_role("operator")
def edit(slug: str):
    workflow = workflow_or_404(slug)
    return editor(pages.definition_text(service.get_version(workflow).definition), workflow=workflow)


@bp.post("/<slug>/edit")
@require_role("operator")
def update(slug: str):
    workflow = workflow_or_404(slug)
    text = request.form.get("definition", "")
    return save(lambda: service.update_workflow(slug, text, actor=current_user)[0], text, workflow)


def detail_page(workflow, *, submitted=None, field_errors=None, problem=None, status: int = 200):
    version = service.get_version(workflow)
    recent = db.session.execute(runs_query(workflow=workflow.slug).limit(RECENT_RUN_COUNT)).scalars().all()
    return render_template(
        "workflows/detail.html", workflow=workflow, version=version,
        graph=render_svg(version.definition["steps"]),
        fields=trigger_fields(version.definition.get("params", {}), submitted),
        field_errors=field_errors or {}, problem=problem, runs=recent,
    ), status


@bp.get("/<slug>")
@require_role("viewer")
def detail(slug: str):
    return detail_page(workflow_or_404(slug))


@bp.post("/<slug>/runs")
@require_role("operator")
def trigger(slug: str):
    """Start a run from the generated form and go to its page; bad params come back per field."""
    workflow = workflow_or_404(slug)
    schema = service.get_version(workflow).definition.get("params", {})
    params, field_errors = read_trigger_form(schema, request.form)
    if not field_errors:
        try:
            run, _created = actions.trigger_run(slug, params, current_user._get_current_object())
        except InvalidInput as error:
            db.session.rollback()
            field_errors = {item["param"]: item["message"] for item in error.details.get("errors", [])}
        except DomainError as error:
            db.session.rollback()
            return detail_page(workflow, submitted=request.form, problem=error.message, status=status_for(error))
        else:
            return redirect(url_for("runs.detail", run_id=run.id))
    return detail_page(workflow, submitted=request.form, field_errors=field_errors,
                       problem="The run was not started: fix the fields marked below.", status=422)


@bp.post("/<slug>/archive")
@require_role("operator")
def archive(slug: str):
    service.archive_workflow(workflow_or_404(slug).slug, actor=current_user)
    db.session.commit()
    return redirect(url_for("workflows.detail", slug=slug))


@bp.get("/<slug>/versions")
@require_role("viewer")
def versions(slug: str):
    """History, newest first, and the diff of two versions (default: the current against the one before)."""
    workflow = workflow_or_404(slug)
    history = service.list_versions(workflow, before=None, limit=200)[:200]
    new_number = request.args.get("b", type=int) or workflow.current_version
    old_number = request.args.get("a", type=int) or max(new_number - 1, 1)
    if not (1 <= old_number <= workflow.current_version and 1 <= new_number <= workflow.current_version):
        raise NotFound(f"Workflow {slug!r} has versions 1 to {workflow.current_version}.")
    diff = pages.version_diff(service.get_version(workflow, old_number), service.get_version(workflow, new_number))
    return render_template("workflows/versions.html", workflow=workflow, history=history, diff=diff,
                           old_number=old_number, new_number=new_number)
