"""Queries and shaping that only the workflow pages need: list statistics, the editor's
validation view and step-kind reference, and version diffs.

The list shows, per workflow, the latest run's status, the success rate and the median duration
over its most recent ``RECENT_RUNS`` runs. On PostgreSQL a LATERAL subquery reads exactly those
rows from the ``(workflow_id, created_at, id)`` index per workflow, so the page costs the same
with a hundred or a hundred thousand runs; SQLite (the embedded mode) has no LATERAL and gets
the same rows from a ``row_number()`` window. The aggregation is done here in Python on those
few rows, one code path for both databases.
"""
from __future__ import annotations

import difflib
import json
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, true

from webapp.console.dag_svg import render_svg
from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.runs.models import WorkflowRun
from webapp.runs.states import RUN_FINISHED
from webapp.steps.registry import all_kinds
from webapp.workflows.definition import slugify
from webapp.workflows.loading import load_definition
from webapp.workflows.models import Workflow, WorkflowVersion
from webapp.workflows.positions import error_lines
from webapp.workflows.service import check_definition

RECENT_RUNS = 50


@dataclass(frozen=True)
class WorkflowStats:
    latest_status: str | None
    finished: int
    succeeded: int
    median_duration: timedelta | None

    @property
    def success_rate(self) -> float | None:
        return self.succeeded / self.finished if self.finished else None


NO_RUNS = WorkflowStats(None, 0, 0, None)


def newest_runs(workflow_ids: Sequence[int], columns: Sequence, limit: int = RECENT_RUNS):
    """``(workflow_id, *columns)`` of each workflow's ``limit`` newest runs, newest first: a LATERAL
    read of the ``(workflow_id, created_at, id)`` index on PostgreSQL, a window on SQLite. The
    workflow list and the runs grid both read through here."""
    newest_first = (WorkflowRun.created_at.desc(), WorkflowRun.id.desc())
    names = [column.key for column in columns]
    if db.session.get_bind().dialect.name == "postgresql":
        recent = (select(*columns, WorkflowRun.created_at.label("sort_at"), WorkflowRun.id.label("sort_id"))
                  .where(WorkflowRun.workflow_id == Workflow.id)
                  .order_by(*newest_first).limit(limit).lateral("recent"))
        query = (select(Workflow.id, *(recent.c[name] for name in names))
                 .join(recent, true()).where(Workflow.id.in_(workflow_ids))
                 .order_by(Workflow.id, recent.c.sort_at.desc(), recent.c.sort_id.desc()))
    else:
        rank = func.row_number().over(partition_by=WorkflowRun.workflow_id, order_by=newest_first).label("rank")
        ranked = (select(WorkflowRun.workflow_id, *columns, rank)
                  .where(WorkflowRun.workflow_id.in_(workflow_ids)).subquery())
        query = (select(ranked.c.workflow_id, *(ranked.c[name] for name in names))
                 .where(ranked.c.rank <= limit).order_by(ranked.c.workflow_id, ranked.c.rank))
    return db.session.execute(query).all()


def _recent_rows(workflow_ids: Sequence[int]):
    """``(workflow_id, status, started_at, finished_at)`` of each workflow's newest runs, newest first."""
    return newest_runs(workflow_ids, (WorkflowRun.status, WorkflowRun.started_at, WorkflowRun.finished_at))


def workflow_stats(workflow_ids: Sequence[int]) -> dict[int, WorkflowStats]:
    """Stats over each workflow's last ``RECENT_RUNS`` runs; workflows without runs get ``NO_RUNS``."""
    if not workflow_ids:
        return {}
    grouped: dict[int, list] = {}
    for row in _recent_rows(workflow_ids):
        grouped.setdefault(row[0], []).append(row)
    stats = {}
    for workflow_id, rows in grouped.items():
        finished = [row for row in rows if row.status in RUN_FINISHED]
        durations = [row.finished_at - row.started_at for row in finished if row.started_at and row.finished_at]
        stats[workflow_id] = WorkflowStats(
            latest_status=rows[0].status, finished=len(finished),
            succeeded=sum(1 for row in finished if row.status == "succeeded"),
            median_duration=statistics.median(durations) if durations else None)
    return {workflow_id: stats.get(workflow_id, NO_RUNS) for workflow_id in workflow_ids}


def validation(text: str, workflow: Workflow | None = None) -> dict:
    """What the editor's validation block shows for ``text``: errors grouped by step, each with
    the line it is about, and the graph.

    It also says what would stop the save although the definition is valid: a new workflow
    whose name gives a slug that exists (``taken``, linked to that workflow's editor), or an
    edit whose name no longer gives the workflow's own slug.
    """
    try:
        errors = check_definition(text)
    except DomainError as error:  # too large to read at all
        return {"general": [{"step": None, "field": "definition", "message": error.message, "line": None}],
                "by_step": {}, "steps": [], "valid": False, "graph": None, "taken": None}
    try:
        definition = load_definition(text)
    except DomainError:  # does not parse; ``errors`` already says why
        definition = None
    taken = None
    if not errors and workflow is not None and not workflow.keeps_slug(definition["name"]):
        errors = [{"step": None, "field": "name",
                   "message": f"must keep this workflow's slug {workflow.slug!r} (this name gives "
                              f"{slugify(definition['name'])!r}); to start another workflow, use New workflow"}]
    elif not errors and workflow is None:
        taken = db.session.scalar(select(Workflow).where(Workflow.slug == slugify(definition["name"])))
    errors = [{**error, "line": line} for error, line in zip(errors, error_lines(text, errors), strict=True)]
    steps = definition.get("steps") if isinstance(definition, dict) else None
    ids = [step["id"] for step in steps or [] if isinstance(step, dict) and isinstance(step.get("id"), str)]
    by_step: dict[str, list] = {}
    general = []
    for error in errors:
        (by_step.setdefault(error["step"], []) if error["step"] else general).append(error)
    graph = render_svg(steps) if not errors else None
    return {"general": general, "by_step": by_step, "steps": ids + [s for s in by_step if s not in ids],
            "valid": not errors, "graph": graph, "taken": taken}


@dataclass(frozen=True)
class KindInput:
    name: str
    type: str
    required: bool
    default: str | None  # as JSON, when the input has one
    description: str


def _type_text(annotation: Any) -> str:
    return annotation.__name__ if isinstance(annotation, type) else str(annotation).replace("typing.", "")


def step_reference() -> list[dict[str, Any]]:
    """Every registered step kind with its inputs, read from its ``input_schema`` (the editor's panel)."""
    reference = []
    for kind in all_kinds():
        inputs = []
        for name, field in kind.input_schema.model_fields.items():
            default = None if field.is_required() else field.get_default(call_default_factory=True)
            inputs.append(KindInput(field.alias or name, _type_text(field.annotation), field.is_required(),
                                    None if default is None else json.dumps(default, default=str),
                                    field.description or ""))
        reference.append({"name": kind.name, "description": kind.description,
                          "memoizable": kind.memoizable, "inputs": inputs})
    return reference


def definition_text(definition: dict[str, Any]) -> str:
    """How a stored definition appears in the editor and in diffs: indented JSON, author's key order."""
    return json.dumps(definition, indent=2, ensure_ascii=False)


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "add", "remove", "hunk", "header" or "same"
    text: str


def version_diff(old: WorkflowVersion, new: WorkflowVersion) -> list[DiffLine]:
    """A unified diff of two versions' definitions; the template escapes every line."""
    lines = difflib.unified_diff(definition_text(old.definition).splitlines(),
                                 definition_text(new.definition).splitlines(),
                                 fromfile=f"version {old.version}", tofile=f"version {new.version}", lineterm="")
    kinds = {"+++": "header", "---": "header", "@@": "hunk", "+": "add", "-": "remove"}
    return [DiffLine(next((kind for prefix, kind in kinds.items() if line.startswith(prefix)), "same"), line)
            for line in lines]


def format_duration(duration: timedelta | None) -> str:
    """``3.2 s``, ``4 min 05 s``, ``2 h 10 min``; an em dash when unknown."""
    if duration is None:
        return "—"
    seconds = duration.total_seconds()
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
