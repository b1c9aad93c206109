"""Decompositions: validate and plan a goal's task tree, store it, execute it as a workflow run.

Callers (API, pages) share these functions. ``create``, ``edit_draft``, ``plan_draft`` and
``execute`` write their audit event and outbox event in the caller's transaction. A row is
created ``draft`` or ``planned``; after that its status changes only through ``models.move``,
which holds the transitions. ``execute`` commits once, with the workflow, the run and the link
between them, so a decomposition never points at half of what it started.
Validation never stops at the first problem: the strategy's, the tree's and then the workflow
validator's (unknown kinds, invalid inputs, templates, retry/timeout/cache rules) come back
together, each naming its task.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from sqlalchemy import select

from webapp.audit.service import record
from webapp.clock import utcnow
from webapp.decomposition.history import load_history
from webapp.decomposition.models import Decomposition, check_move, move
from webapp.decomposition.planning import plan_steps
from webapp.decomposition.strategies import StrategyError, build_tree
from webapp.decomposition.tree import TaskError, read_tree, to_steps
from webapp.events import publish
from webapp.exceptions import Conflict, InvalidInput, NotFound, TooLarge
from webapp.extensions import db
from webapp.formatting import iso
from webapp.runs.actions import audit as audit_run
from webapp.runs.actions import refuse_over_budget
from webapp.runs.engine import trigger
from webapp.workflows.definition import validate_definition
from webapp.workflows.loading import load_definition
from webapp.workflows.service import create_workflow, get_version

MAX_GOAL = 2000


@dataclass
class Analysis:
    tree: Any = None
    steps: list[dict[str, Any]] = field(default_factory=list)
    errors: list[TaskError] = field(default_factory=list)
    plan: dict[str, Any] | None = None


def analyse(goal: Any, strategy: str, raw: Any, *, params: dict[str, Any] | None = None,
            plan: bool = True) -> Analysis:
    """Build, validate and (when valid and ``plan``) plan; text input is read as JSON or YAML first.

    ``params`` is the generated workflow's params schema: a ``task.decompose`` step's children
    read ``params.item``, ``params.index`` and ``params.goal`` (webapp/decomposition/fan_out.py);
    a decomposition's run has none.
    """
    result = Analysis()
    if not isinstance(goal, str) or not goal.strip() or len(goal) > MAX_GOAL or "\x00" in goal:
        result.errors.append(TaskError(None, "goal", f"is required: the goal in 1 to {MAX_GOAL} characters"))
        goal = goal if isinstance(goal, str) else ""
    try:
        result.tree = build_tree(strategy, goal, load_definition(raw) if isinstance(raw, str) else raw,
                                 per_item=params is not None)
    except StrategyError as error:
        result.errors.append(TaskError(None, error.field, error.message))
        return result
    except InvalidInput as error:  # text that is neither JSON nor YAML
        result.errors += [TaskError(None, "input", item["message"]) for item in error.details.get("errors", [])]
        return result
    config = current_app.config
    tree = read_tree(result.tree, max_tasks=config["DECOMPOSITION_MAX_TASKS"],
                     max_depth=config["DECOMPOSITION_MAX_DEPTH"])
    result.errors += tree.errors
    if not tree.tasks:
        return result
    result.steps = to_steps(tree)
    result.errors += _step_errors(result.steps, params or {})
    if plan and not result.errors:
        result.plan = plan_steps(result.steps, load_history({step["uses"] for step in result.steps}))
    return result


def _step_errors(steps: list[dict[str, Any]], params: dict[str, Any]) -> list[TaskError]:
    """The workflow validator's verdict on the generated steps, less what the tree already said
    (ids, needs and cycles are reported once, by the tree, in its own words)."""
    errors = validate_definition({"name": "decomposition", "params": params, "steps": steps})
    return [TaskError(error.step, error.field, error.message) for error in errors
            if error.field != "id" and not error.field.startswith("needs")]


def invalid(analysis: Analysis) -> InvalidInput:
    errors = [error.to_dict() for error in analysis.errors]
    summary = "; ".join(f"{e['task'] + '.' if e['task'] else ''}{e['field']}: {e['message']}" for e in errors[:3])
    more = f" and {len(errors) - 3} more" if len(errors) > 3 else ""
    return InvalidInput(f"The decomposition has {len(errors)} problem(s): {summary}{more}.", details={"errors": errors})


def create(goal: Any, strategy: str, raw: Any, actor=None, *, draft: bool = False) -> Decomposition:
    """A ``planned`` decomposition (``InvalidInput`` with every problem if it is not valid), or,
    with ``draft``, a ``draft`` kept as written and neither built nor checked."""
    analysis = None if draft else checked(goal, strategy, raw)
    decomposition = Decomposition(goal=goal, strategy=strategy, input=stored_input(raw), tree={}, plan={},
                                  status="draft" if draft else "planned", created_by=_actor_id(actor))
    if analysis is not None:
        decomposition.tree, decomposition.plan = analysis.tree, analysis.plan
    db.session.add(decomposition)
    db.session.flush()
    _announce("create", decomposition, actor)
    return decomposition


def checked(goal: Any, strategy: str, raw: Any) -> Analysis:
    analysis = analyse(goal, strategy, raw)
    if analysis.errors:
        raise invalid(analysis)
    return analysis


def edit_draft(decomposition_id: int, goal: Any, strategy: str, raw: Any, actor=None) -> Decomposition:
    """Replace a draft's goal, strategy and input (409 for any other status)."""
    decomposition = get(decomposition_id, for_update=True)
    move(decomposition, "draft")
    decomposition.goal, decomposition.strategy, decomposition.input = goal, strategy, stored_input(raw)
    _announce("edit", decomposition, actor)
    return decomposition


def plan_draft(decomposition_id: int, actor=None) -> Decomposition:
    """Build, check and plan a draft: ``planned`` if valid, else ``InvalidInput`` and it stays a draft."""
    decomposition = get(decomposition_id, for_update=True)
    check_move(decomposition, "planned")
    analysis = checked(decomposition.goal, decomposition.strategy, input_of(decomposition))
    decomposition.tree, decomposition.plan = analysis.tree, analysis.plan
    move(decomposition, "planned")
    _announce("plan", decomposition, actor)
    return decomposition


def _announce(action: str, decomposition: Decomposition, actor) -> None:
    """The audit event and the outbox event of ``action``, in the caller's transaction."""
    figures = {"strategy": decomposition.strategy, "status": decomposition.status,
               "task_count": (decomposition.plan or {}).get("task_count")}
    record(f"decomposition.{action}", actor=actor, target_type="decomposition", target_id=decomposition.id,
           details=figures)
    past = {"create": "created", "edit": "edited", "plan": "planned"}[action]
    publish(f"decomposition.{past}", {"decomposition_id": decomposition.id, **figures,
                                      "actor_id": _actor_id(actor)})


def input_of(decomposition: Decomposition) -> Any:
    """The input as it was given: the object, or what ``stored_input`` kept under ``text``."""
    stored = decomposition.input
    return stored["text"] if set(stored) == {"text"} else stored


def stored_input(raw: Any) -> dict[str, Any]:
    """The input as the row keeps it: an object as it came, text (JSON/YAML) under ``text``."""
    return raw if isinstance(raw, dict) else {"text": raw}


def get(decomposition_id: int, *, for_update: bool = False) -> Decomposition:
    query = select(Decomposition).where(Decomposition.id == decomposition_id)
    decomposition = db.session.scalar(query.with_for_update() if for_update else query)
    if decomposition is None:
        raise NotFound(f"There is no decomposition {decomposition_id}.")
    return decomposition


def list_recent(*, before: int | None, limit: int) -> list[Decomposition]:
    """Newest first, up to ``limit + 1`` rows with an id below the cursor's (keyset)."""
    query = select(Decomposition).order_by(Decomposition.id.desc()).limit(limit + 1)
    if before is not None:
        query = query.where(Decomposition.id < before)
    return list(db.session.scalars(query))


def find_same(goal: str, strategy: str, raw: Any) -> Decomposition | None:
    """A stored decomposition of the same goal, strategy and input (what re-imports skip)."""
    stored = stored_input(raw)
    candidates = db.session.scalars(select(Decomposition).where(Decomposition.goal == goal,
                                                                Decomposition.strategy == strategy))
    return next((row for row in candidates if row.input == stored), None)


def execute(decomposition_id: int, actor, name: str | None = None) -> Decomposition:
    """Generate the workflow (``decomp-<id>`` or ``name``) and start its run; commits.

    A run's budgets, memoization, retries and checkpoints apply as to any run: this goes
    through the same trigger, and a ``block`` budget refuses it with 402 (nothing is kept, and
    the decomposition can be executed again later). A workflow that cannot be created (its
    name is taken, the definition is too large) marks the decomposition ``failed`` with the
    reason; executing it again, with another name, is allowed.
    """
    decomposition = get(decomposition_id, for_update=True)
    check_move(decomposition, "executed")
    definition = {"name": name or f"decomp-{decomposition.id}", "description": decomposition.goal,
                  "steps": steps_of(decomposition)}
    try:
        workflow = create_workflow(definition, actor)
    except (Conflict, InvalidInput, TooLarge) as error:
        db.session.rollback()
        failed = get(decomposition_id, for_update=True)
        move(failed, "failed")
        failed.error = error.message
        record("decomposition.execute", actor=actor, target_type="decomposition", target_id=failed.id,
               outcome="failure", details={"error": error.message})
        db.session.commit()
        raise
    run, _created = trigger(workflow, {}, actor_id=_actor_id(actor))
    refuse_over_budget(workflow, run)
    audit_run("run.trigger", run, actor, workflow=workflow.slug)
    move(decomposition, "executed")
    decomposition.error = None
    decomposition.workflow_id, decomposition.workflow_version = workflow.id, get_version(workflow).version
    decomposition.run_id, decomposition.executed_at = run.id, utcnow()
    record("decomposition.execute", actor=actor, target_type="decomposition", target_id=decomposition.id,
           details={"workflow": workflow.slug, "run_id": run.id})
    publish("decomposition.executed", {"decomposition_id": decomposition.id, "workflow_id": workflow.id,
                                       "run_id": run.id, "actor_id": _actor_id(actor)})
    db.session.commit()
    return decomposition


def steps_of(decomposition: Decomposition) -> list[dict[str, Any]]:
    """The workflow steps of a stored (valid) tree; the caps are not applied again."""
    return to_steps(read_tree(decomposition.tree, max_tasks=10**9, max_depth=10**9))


def _actor_id(actor) -> int | None:
    return actor if isinstance(actor, int) or actor is None else getattr(actor, "id", None)


def to_dict(decomposition: Decomposition) -> dict[str, Any]:
    workflow = None
    if decomposition.workflow is not None:
        workflow = {"slug": decomposition.workflow.slug, "version": decomposition.workflow_version}
    draft = decomposition.status == "draft"
    return {"id": decomposition.id, "goal": decomposition.goal, "strategy": decomposition.strategy,
            "status": decomposition.status, "error": decomposition.error, "input": decomposition.input,
            "tree": None if draft else decomposition.tree, "plan": None if draft else decomposition.plan,
            "workflow": workflow,
            "run_id": decomposition.run_id, "created_by": decomposition.created_by,
            "created_at": iso(decomposition.created_at),
            "executed_at": iso(decomposition.executed_at)}
