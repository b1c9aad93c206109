"""What past runs say about a step kind: median durations per kind, median costs per kind and model.

Attempts do not store their kind, so the recent succeeded attempts are read with their run's
workflow version, and each step's ``uses`` (and literal ``with.model``) is looked up in that
version's definition, which never changes. One query for the attempts and one for the
definitions of the versions they came from, whatever the size of the tree being planned.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select

from webapp.extensions import db
from webapp.runs.models import StepAttempt, StepRun, WorkflowRun
from webapp.workflows.models import WorkflowVersion
from webapp.workflows.templating import is_template

RECENT_ATTEMPTS = 5000  # memo-cache hits are left out: they took no time and spent nothing


@dataclass
class History:
    durations: dict[str, list[float]] = field(default_factory=dict)
    costs: dict[tuple[str, str | None], list[Decimal]] = field(default_factory=dict)

    def duration(self, uses: str) -> tuple[float, int] | None:
        """``(median seconds, attempts)`` of succeeded attempts of ``uses``, or None."""
        past = self.durations.get(uses)
        return (float(statistics.median(past)), len(past)) if past else None

    def cost(self, uses: str, model: str | None) -> tuple[Decimal, int] | None:
        past = self.costs.get((uses, model))
        return (Decimal(statistics.median(past)), len(past)) if past else None


def model_of(with_: dict) -> str | None:
    model = with_.get("model") if isinstance(with_, dict) else None
    return model if isinstance(model, str) and not is_template(model) else None


def load_history(kinds: set[str]) -> History:
    """Medians over the last ``RECENT_ATTEMPTS`` succeeded attempts, for the kinds asked about."""
    history = History()
    if not kinds:
        return history
    rows = db.session.execute(
        select(StepRun.step_key, WorkflowRun.workflow_version_id, StepAttempt.started_at, StepAttempt.finished_at,
               StepAttempt.cost)
        .join(StepRun, StepRun.id == StepAttempt.step_run_id).join(WorkflowRun, WorkflowRun.id == StepAttempt.run_id)
        .where(StepAttempt.status == "succeeded", StepRun.cache_hit.is_(False), StepAttempt.started_at.is_not(None),
               StepAttempt.finished_at.is_not(None))
        .order_by(StepAttempt.id.desc()).limit(RECENT_ATTEMPTS)).all()
    versions = {row.workflow_version_id for row in rows}
    steps: dict[tuple[int, str], tuple[str, str | None]] = {}
    if versions:
        for version_id, definition in db.session.execute(
                select(WorkflowVersion.id, WorkflowVersion.definition).where(WorkflowVersion.id.in_(versions))):
            for step in definition.get("steps", []):
                steps[(version_id, step["id"])] = (step["uses"], model_of(step.get("with", {})))
    for row in rows:
        uses, model = steps.get((row.workflow_version_id, row.step_key), (None, None))
        if uses not in kinds:
            continue
        history.durations.setdefault(uses, []).append((row.finished_at - row.started_at).total_seconds())
        history.costs.setdefault((uses, model), []).append(row.cost or Decimal("0"))
    return history
