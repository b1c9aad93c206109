"""What the run page shows, built from a run: per-step facts, and which actions its state allows.

The action rules mirror webapp/runs/actions.py, which stays the judge: a button shown here can
still be refused (409) if the run moved on in between, and the page then says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from webapp.console.dag_svg import render_svg
from webapp.costs.models import CostRecord
from webapp.extensions import db
from webapp.runs.models import Checkpoint, StepRun, WorkflowRun
from webapp.runs.pages import CANCELLABLE, RETRYABLE
from webapp.runs.plan import plan_for
from webapp.runs.states import RUN_FINISHED, STEP_RERUNNABLE
from webapp.runs.timeline_svg import duration, gantt_svg, progress_svg, seconds_text
from webapp.workflows.templating import make_scope, render_inputs

FOLD_OVER_CHARS = 1200
RESUMABLE = frozenset({"failed", "cancelled", "paused"})
# actions.retry_step also takes skipped steps, but those re-run with the step that failed
# before them; a button on each would only repeat that one.
RETRYABLE_STEPS = STEP_RERUNNABLE - {"skipped"}


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class StepView:
    step: StepRun
    uses: str
    needs: tuple[str, ...]
    inputs: str | None
    output: str | None
    attempt_costs: list[tuple[int, Decimal]]
    duration: str | None
    can_retry: bool

    @property
    def fold_output(self) -> bool:
        return self.output is not None and len(self.output) > FOLD_OVER_CHARS


def rendered_inputs(run: WorkflowRun, with_: dict[str, Any], outputs: dict[str, Any], step: StepRun) -> str:
    """The step's ``with`` as the engine rendered it; the raw templates when they cannot render
    yet (upstream outputs missing) or no longer do."""
    scope = make_scope(run.params, outputs, {"id": run.id, "workflow": run.workflow.slug, "attempt": step.attempt})
    try:
        return pretty(render_inputs(with_, scope))
    except Exception:  # a template error is the step's own failure, shown in its error; show the source
        return pretty(with_)


def attempt_costs(run_id: int) -> dict[int, list[tuple[int, Decimal]]]:
    rows = db.session.execute(select(CostRecord.step_run_id, CostRecord.attempt, func.sum(CostRecord.amount))
                              .where(CostRecord.run_id == run_id)
                              .group_by(CostRecord.step_run_id, CostRecord.attempt)
                              .order_by(CostRecord.step_run_id, CostRecord.attempt)).all()
    costs: dict[int, list[tuple[int, Decimal]]] = {}
    for step_run_id, attempt, amount in rows:
        costs.setdefault(step_run_id, []).append((attempt, amount))
    return costs


def step_views(run: WorkflowRun, now: datetime) -> list[StepView]:
    plan = plan_for(run.version)
    outputs = {step.step_key: step.output for step in run.steps if step.status == "succeeded"}
    costs = attempt_costs(run.id)
    views = []
    for step in run.steps:
        spec = plan.spec(step.step_key)
        took = duration(step, now)
        views.append(StepView(
            step=step, uses=spec.uses, needs=spec.needs,
            inputs=rendered_inputs(run, spec.with_, outputs, step) if step.started_at else pretty(spec.with_),
            output=None if step.output is None else pretty(step.output),
            attempt_costs=costs.get(step.id, []), duration=None if took is None else seconds_text(took),
            can_retry=step.status in RETRYABLE_STEPS and run.status != "succeeded"))
    return views


@dataclass(frozen=True)
class RunActions:
    cancel: bool
    retry: bool
    resume: bool

    @classmethod
    def of(cls, run: WorkflowRun) -> RunActions:
        return cls(cancel=run.status in CANCELLABLE, retry=run.status in RETRYABLE, resume=run.status in RESUMABLE)


def run_page(run: WorkflowRun, now: datetime) -> dict[str, Any]:
    """Everything the run page template needs, for the whole page and its polled block alike."""
    checkpoints = db.session.execute(select(Checkpoint).where(Checkpoint.run_id == run.id)
                                     .order_by(Checkpoint.seq.desc())).scalars().all()
    dag_steps = [{"id": spec.id, "uses": spec.uses, "needs": list(spec.needs)} for spec in plan_for(run.version).steps]
    return {"run": run, "steps": step_views(run, now), "checkpoints": checkpoints,
            "dag": render_svg(dag_steps, {step.step_key: step.status for step in run.steps}, link="#step-{step}"),
            "gantt": gantt_svg(run.steps, now), "progress": progress_svg(run.steps),
            "finished": run.status in RUN_FINISHED, "allowed": RunActions.of(run)}
