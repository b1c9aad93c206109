"""The run and step state machines, and every question asked of a state, in one place.

The API, the pages, the timeline, the operator commands, the executor and the reconciler all
ask these predicates; none of them compares statuses of its own. docs/architecture.md draws
both machines.

Decisions written down here:
- A run is ``paused`` for one ``pause_reason``:
  - ``approval``: a gate waits for a decision. Other branches of the run go on; the decision
    lifts the pause (``settle`` does it once no gate waits).
  - ``budget`` and ``operator`` *hold* the run: running steps finish, nothing new starts.
    Only their own cause lifts them (a budget raised or reset, an operator's resume); ``settle``
    and the reconciler never do.
  A hold outranks an approval pause: pausing a run that waits at a gate makes it held, and
  lifting the hold leaves it paused for approval again if a gate still waits.
- A run waiting for a concurrency slot (``queued``) or paused can be cancelled.
- ``resume`` continues a failed or cancelled run from a checkpoint, or lifts an operator's hold.
- A step goes back to ``pending`` only through resume or retry (from ``succeeded`` too, when
  resuming from a checkpoint taken before that step completed).
- ``retrying`` means "waiting out the backoff"; the attempt's job moves it to ``queued``.
- ``crashed`` (the worker died) is terminal until a retry queues the step again.
- ``waiting_children``: a ``task.decompose`` step whose attempt started child runs and waits
  for them without holding a worker; the engine ends it when its last child finishes
  (webapp/runs/children.py). Its attempt stays open meanwhile, as a running step's does.
"""
from __future__ import annotations

from typing import Protocol

from webapp.exceptions import IllegalTransition

RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"running", "cancelled"}),
    "running": frozenset({"succeeded", "failed", "cancelled", "paused"}),
    "paused": frozenset({"running", "cancelled", "paused"}),
    "failed": frozenset({"running"}),
    "cancelled": frozenset({"running"}),
    "succeeded": frozenset(),
}

STEP_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"queued", "skipped", "cancelled", "waiting_approval"}),
    "queued": frozenset({"running", "cancelled"}),
    "running": frozenset({"succeeded", "failed", "retrying", "cancelled", "crashed", "waiting_children"}),
    "retrying": frozenset({"queued", "cancelled"}),
    "waiting_approval": frozenset({"succeeded", "failed", "cancelled", "pending"}),
    "waiting_children": frozenset({"succeeded", "failed", "cancelled"}),
    "succeeded": frozenset({"pending"}),
    "failed": frozenset({"pending"}),
    "skipped": frozenset({"pending"}),
    "cancelled": frozenset({"pending"}),
    "crashed": frozenset({"queued", "pending"}),
}

RUN_STATES = tuple(RUN_TRANSITIONS)
STEP_STATES = tuple(STEP_TRANSITIONS)
PAUSE_REASONS = ("approval", "budget", "operator")
HOLD_REASONS = frozenset({"budget", "operator"})

RUN_ACTIVE = frozenset({"running", "paused"})
RUN_IN_PROGRESS = frozenset({"queued", "running", "paused"})
RUN_FINISHED = frozenset({"succeeded", "failed", "cancelled"})
STEP_ACTIVE = frozenset({"queued", "running", "retrying"})
STEP_WAITING = frozenset({"queued", "retrying"})
STEP_UNFINISHED = frozenset({"pending", "queued", "running", "retrying", "waiting_approval", "waiting_children"})
STEP_DONE = frozenset({"succeeded", "failed", "skipped", "cancelled", "crashed"})
STEP_BROKEN = frozenset({"failed", "crashed"})
STEP_RERUNNABLE = frozenset({"failed", "crashed", "cancelled", "skipped"})
# What cancel stops: steps that have not finished, including one waiting at a gate.
STEP_STOPPABLE = STEP_UNFINISHED


class RunLike(Protocol):
    status: str
    pause_reason: str | None


class StepLike(Protocol):
    status: str


def check_run_transition(current: str, target: str) -> None:
    if target not in RUN_TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(f"A run cannot go from {current} to {target}.",
                                details={"state": current, "target": target})


def check_step_transition(current: str, target: str) -> None:
    if target not in STEP_TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(f"A step cannot go from {current} to {target}.",
                                details={"state": current, "target": target})


def is_finished(run: RunLike) -> bool:
    return run.status in RUN_FINISHED


def is_held(run: RunLike) -> bool:
    """Paused by a budget or an operator: nothing new starts until that cause is lifted."""
    return run.status == "paused" and run.pause_reason in HOLD_REASONS


def starts_steps(run: RunLike) -> bool:
    """Whether the engine may queue or start steps of this run now."""
    return run.status in RUN_ACTIVE and not is_held(run)


def accepts_results(run: RunLike) -> bool:
    """Whether a finished attempt may still record its outcome (a held run's steps finish)."""
    return run.status in RUN_ACTIVE


def can_cancel(run: RunLike) -> bool:
    return run.status in RUN_IN_PROGRESS


def can_retry(run: RunLike) -> bool:
    """Run again every step that did not succeed."""
    return run.status in ("failed", "cancelled")


def offers_retry(run: RunLike) -> bool:
    """The "Retry failed steps" button: a cancelled run has no failed steps to name, and
    offers Resume instead, which continues it the same way."""
    return run.status == "failed"


def can_resume(run: RunLike) -> bool:
    """From a checkpoint for a failed or cancelled run; or lifting an operator's hold."""
    return run.status in ("failed", "cancelled") or (run.status == "paused" and run.pause_reason == "operator")


def can_pause(run: RunLike) -> bool:
    """An operator can hold a running run, or one that waits at a gate."""
    return run.status == "running" or (run.status == "paused" and run.pause_reason == "approval")


def has_open_attempt(step: StepLike) -> bool:
    """Whether the step's current attempt has not ended: it runs, or it waits for its children."""
    return step.status in ("running", "waiting_children")


def can_decide(step: StepLike) -> bool:
    return step.status == "waiting_approval"


def can_retry_step(run: RunLike, step: StepLike) -> bool:
    return step.status in STEP_RERUNNABLE and run.status != "succeeded"


def offers_step_retry(run: RunLike, step: StepLike) -> bool:
    """The per-step Retry button: skipped steps re-run with the failed step before them, so a
    button on each would only repeat that one."""
    return can_retry_step(run, step) and step.status != "skipped"


def can_claim(run: RunLike, step: StepLike) -> bool:
    """Whether a step job may start its attempt now."""
    return starts_steps(run) and step.status in STEP_WAITING


def settled_status(run: RunLike, step_states: set[str]) -> tuple[str, str | None] | None:
    """The ``(status, pause_reason)`` the run's steps call for, or None to leave it as it is.

    A hold is never lifted here, and a finished or queued run is not touched.
    """
    if run.status not in RUN_ACTIVE or is_held(run):
        return None
    if "waiting_approval" in step_states:
        return ("paused", "approval")
    if step_states & STEP_UNFINISHED:
        return ("running", None)
    return ("succeeded", None) if step_states <= {"succeeded"} else ("failed", None)
