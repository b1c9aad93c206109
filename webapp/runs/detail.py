"""What the run page shows, built from a run: per-step facts, attempts, and the actions its
state allows.

The buttons ask the same predicates (webapp/runs/states.py) as the commands in
webapp/runs/actions.py, which stay the judge: a button shown here can still be refused if the
run moved on in between, and the page then says so.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from webapp.console.dag_svg import render_svg
from webapp.extensions import db
from webapp.formatting import money_text
from webapp.runs import states
from webapp.runs.checkpoints import fold
from webapp.runs.models import Checkpoint, StepAttempt, StepRun, WorkflowRun
from webapp.runs.plan import plan_for
from webapp.runs.timeline_svg import duration, gantt_svg, progress_svg, seconds_text
from webapp.users.models import User
from webapp.workflows.templating import make_scope, render_inputs

FOLD_OVER_CHARS = 1200


def pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@dataclass(frozen=True)
class StepView:
    step: StepRun
    uses: str
    needs: tuple[str, ...]
    inputs: str | None
    output: str | None
    attempts: list[AttemptRow]
    duration: str | None
    can_retry: bool
    prompt: str | None = None

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


@dataclass(frozen=True)
class AttemptRow:
    """An attempt with what the page says of it: the time it waited in the queue and ran."""

    attempt: StepAttempt
    waited: str
    took: str


def attempt_rows(step: StepRun, now: datetime) -> list[AttemptRow]:
    rows = []
    for attempt in step.attempts:
        start, queued = attempt.started_at, attempt.queued_at
        waited = seconds_text((start - queued).total_seconds()) if start and queued else "—"
        took = seconds_text(((attempt.finished_at or now) - start).total_seconds()) if start else "—"
        rows.append(AttemptRow(attempt, waited, took))
    return rows


def gate_prompt(run: WorkflowRun, with_: dict[str, Any], outputs: dict[str, Any], step: StepRun) -> str:
    """The gate's ``prompt`` as rendered for this run, for the banner at the top of the page."""
    scope = make_scope(run.params, outputs, {"id": run.id, "workflow": run.workflow.slug, "attempt": step.attempt})
    try:
        prompt = render_inputs(with_, scope).get("prompt")
    except Exception:  # the step's own error says why; the banner shows the template as written
        prompt = with_.get("prompt")
    return str(prompt) if prompt else f"Approve step {step.step_key}?"


def step_views(run: WorkflowRun, now: datetime) -> list[StepView]:
    plan = plan_for(run.version)
    outputs = {step.step_key: step.output for step in run.steps if step.status == "succeeded"}
    views = []
    for step in run.steps:
        spec = plan.spec(step.step_key)
        took = duration(step, now)
        views.append(StepView(
            step=step, uses=spec.uses, needs=spec.needs, attempts=attempt_rows(step, now),
            inputs=rendered_inputs(run, spec.with_, outputs, step) if step.started_at else pretty(spec.with_),
            output=None if step.output is None else pretty(step.output),
            duration=None if took is None else seconds_text(took),
            can_retry=states.offers_step_retry(run, step),
            prompt=gate_prompt(run, spec.with_, outputs, step) if step.status == "waiting_approval" else None))
    return views


@dataclass(frozen=True)
class RunActions:
    cancel: bool
    pause: bool
    resume: bool
    retry: bool
    restore: bool

    @classmethod
    def of(cls, run: WorkflowRun) -> RunActions:
        held_by_operator = states.is_held(run) and run.pause_reason == "operator"
        return cls(cancel=states.can_cancel(run), pause=states.can_pause(run), resume=held_by_operator,
                   retry=states.offers_retry(run), restore=states.can_resume(run) and not states.is_held(run))


def run_page(run: WorkflowRun, now: datetime) -> dict[str, Any]:
    """Everything the run page template needs, for the whole page and its polled block alike."""
    checkpoints = db.session.execute(select(Checkpoint).where(Checkpoint.run_id == run.id)
                                     .order_by(Checkpoint.seq.desc())).scalars().all()
    covered = fold(list(checkpoints))
    dag_steps = [{"id": spec.id, "uses": spec.uses, "needs": list(spec.needs)} for spec in plan_for(run.version).steps]
    views = step_views(run, now)
    took = ((run.finished_at or now) - run.started_at).total_seconds() if run.started_at else None
    return {"run": run, "steps": views, "checkpoints": checkpoints,
            "gates": [view for view in views if view.prompt is not None],
            "run_duration": None if took is None else seconds_text(max(took, 0.0)),
            "triggered_by": db.session.scalar(select(User.email).where(User.id == run.triggered_by))
            if run.triggered_by else None,
            "covered": {checkpoint.id: sorted(covered[checkpoint.id]) for checkpoint in checkpoints},
            "dag": render_svg(dag_steps, {step.step_key: step.status for step in run.steps}, link="#step-{step}",
                              durations={view.step.step_key: view.duration for view in views if view.duration},
                              costs={view.step.step_key: money_text(view.step.cost) for view in views
                                     if view.step.cost}),
            "gantt": gantt_svg(run.steps, now), "progress": progress_svg(run.steps),
            "finished": states.is_finished(run), "allowed": RunActions.of(run)}
