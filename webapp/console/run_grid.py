"""The runs grid: each workflow's newest runs as a row of coloured cells, oldest on the left,
the way Airflow's grid reads, but one indexed read per workflow (webapp/workflows/pages.py
``newest_runs``), so it costs the same at a thousand runs or a million."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select

from webapp.extensions import db
from webapp.runs.models import WorkflowRun
from webapp.workflows.models import Workflow
from webapp.workflows.pages import newest_runs

GRID_RUNS = 30
GRID_WORKFLOWS = 25


@dataclass(frozen=True)
class Cell:
    run_id: int
    status: str
    created_at: datetime


@dataclass
class GridRow:
    slug: str
    name: str
    cells: list[Cell] = field(default_factory=list)

    @property
    def summary(self) -> str:
        """The row in words, for screen readers and the row's tooltip: "3 succeeded, 1 failed"."""
        counts = Counter(cell.status for cell in self.cells)
        return ", ".join(f"{count} {status}" for status, count in counts.most_common()) or "no runs"


def run_grid(workflow: str | None = None) -> list[GridRow]:
    """One row per live workflow (or just ``workflow``), by slug, at most ``GRID_WORKFLOWS``."""
    query = select(Workflow.id, Workflow.slug, Workflow.name).where(Workflow.archived.is_(False))
    if workflow:
        query = query.where(Workflow.slug == workflow)
    workflows = db.session.execute(query.order_by(Workflow.slug).limit(GRID_WORKFLOWS)).all()
    rows = {workflow_id: GridRow(slug, name) for workflow_id, slug, name in workflows}
    if not rows:
        return []
    for workflow_id, run_id, status, created_at in newest_runs(
            list(rows), (WorkflowRun.id, WorkflowRun.status, WorkflowRun.created_at), GRID_RUNS):
        rows[workflow_id].cells.append(Cell(run_id, status, created_at))
    for row in rows.values():
        row.cells.reverse()  # oldest first, so the newest run is the right-most cell
    return list(rows.values())
