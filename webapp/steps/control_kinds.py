"""Control kinds for demos, tests and fault injection: sleep, fail, and the approval gate."""
from __future__ import annotations

import logging
import time

from pydantic import Field

from webapp.steps.base import StepContext, StepFailed, StepInputs, StepKind, StepResult, StepStopped
from webapp.steps.registry import register

log = logging.getLogger(__name__)
STOP_POLL_SECONDS = 0.1


class SleepInputs(StepInputs):
    seconds: float = Field(ge=0, le=3600)


@register
class ControlSleep(StepKind):
    """Sleeps in short slices so a cancelled run stops it within ``STOP_POLL_SECONDS``."""

    name = "control.sleep"
    memoizable = False
    input_schema = SleepInputs
    description = "Waits the given number of seconds; stops early when the run is cancelled."

    def execute(self, inputs: SleepInputs, context: StepContext) -> StepResult:
        log.info("sleeping %gs", inputs.seconds)
        started = time.monotonic()
        deadline = started + inputs.seconds
        while (left := deadline - time.monotonic()) > 0:
            if context.should_stop():
                raise StepStopped(f"stopped after {time.monotonic() - started:.1f}s: the run was cancelled")
            time.sleep(min(STOP_POLL_SECONDS, left))
        return StepResult(output={"slept": inputs.seconds})


class FailInputs(StepInputs):
    times: int | None = Field(default=None, ge=0, le=1000)
    message: str = Field(default="failed on purpose", max_length=500)


@register
class ControlFail(StepKind):
    """Fails attempts 1..``times`` (attempts count from 1), then passes; no ``times`` = always fails."""

    name = "control.fail"
    memoizable = False
    input_schema = FailInputs
    description = "Fails its first N attempts (or every attempt when times is omitted), then passes."

    def execute(self, inputs: FailInputs, context: StepContext) -> StepResult:
        if inputs.times is not None and context.attempt > inputs.times:
            log.info("attempt %s passes", context.attempt)
            return StepResult(output={"attempt": context.attempt})
        log.warning("attempt %s fails on purpose", context.attempt)
        if inputs.times is None:
            raise StepFailed(f"{inputs.message} (attempt {context.attempt}; fails every attempt)")
        raise StepFailed(f"{inputs.message} (attempt {context.attempt} of the first {inputs.times} that fail)")


class ApprovalInputs(StepInputs):
    prompt: str = Field(default="Approve to continue.", max_length=2000)


@register
class GateApproval(StepKind):
    """The engine parks this step as ``waiting_approval``; an operator's decision is its output
    ``{approved, comment, by}``. ``execute`` is never called."""

    name = "gate.approval"
    memoizable = False
    waits_for_approval = True
    input_schema = ApprovalInputs
    description = "Pauses the run until an operator approves or rejects it, with a comment."

    def execute(self, inputs: ApprovalInputs, context: StepContext) -> StepResult:
        raise StepFailed("gate.approval is decided by an operator, not executed")
