"""The run and step state machines of DESIGN §3, as data, with every other move refused.

Where DESIGN is silent we chose what an Airflow or Prefect user expects, written here:
- a run waiting for a concurrency slot (``queued``) or parked at a gate (``paused``) can be
  cancelled;
- a gate decision moves a ``paused`` run back to ``running``; a rejection then fails it from there;
- a step is reset to ``pending`` only by resume/retry (from ``succeeded`` too, when resuming
  from a checkpoint taken before that step completed);
- ``retrying`` means "waiting out the backoff"; the attempt's job moves it to ``queued`` when it fires;
- ``crashed`` (the worker died) is terminal until a retry queues the step again.
"""
from __future__ import annotations

from webapp.exceptions import IllegalTransition

RUN_TRANSITIONS: dict[str, frozenset[str]] = {
    "queued": frozenset({"running", "cancelled"}),
    "running": frozenset({"succeeded", "failed", "cancelled", "paused"}),
    "paused": frozenset({"running", "cancelled"}),
    "failed": frozenset({"running"}),
    "cancelled": frozenset({"running"}),
    "succeeded": frozenset(),
}

STEP_TRANSITIONS: dict[str, frozenset[str]] = {
    "pending": frozenset({"queued", "skipped", "cancelled", "waiting_approval"}),
    "queued": frozenset({"running", "cancelled"}),
    "running": frozenset({"succeeded", "failed", "retrying", "cancelled", "crashed"}),
    "retrying": frozenset({"queued", "cancelled"}),
    "waiting_approval": frozenset({"succeeded", "failed", "cancelled", "pending"}),
    "succeeded": frozenset({"pending"}),
    "failed": frozenset({"pending"}),
    "skipped": frozenset({"pending"}),
    "cancelled": frozenset({"pending"}),
    "crashed": frozenset({"queued", "pending"}),
}

RUN_STATES = tuple(RUN_TRANSITIONS)
STEP_STATES = tuple(STEP_TRANSITIONS)
RUN_ACTIVE = frozenset({"running", "paused"})
RUN_FINISHED = frozenset({"succeeded", "failed", "cancelled"})
STEP_ACTIVE = frozenset({"queued", "running", "retrying"})
STEP_UNFINISHED = frozenset({"pending", "queued", "running", "retrying", "waiting_approval"})
STEP_RERUNNABLE = frozenset({"failed", "crashed", "cancelled", "skipped"})


def check_run_transition(current: str, target: str) -> None:
    if target not in RUN_TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(f"A run cannot go from {current} to {target}.",
                                details={"state": current, "target": target})


def check_step_transition(current: str, target: str) -> None:
    if target not in STEP_TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(f"A step cannot go from {current} to {target}.",
                                details={"state": current, "target": target})
