"""Every question the API, pages, commands, executor and reconciler ask of a run or step state,
for every state, against a table written out here by hand."""
from dataclasses import dataclass

import pytest

from webapp.runs import states
from webapp.runs.states import RUN_STATES, STEP_STATES

# (status, pause_reason): the run states there are, a paused run once per reason.
RUNS = [(status, None) for status in RUN_STATES if status != "paused"] + [
    ("paused", reason) for reason in states.PAUSE_REASONS]

T, F = True, False
# columns: finished, held, starts_steps, accepts_results, can_cancel, can_retry, offers_retry,
#          can_resume, can_pause
RUN_TABLE = {
    ("queued", None):         (F, F, F, F, T, F, F, F, F),
    ("running", None):        (F, F, T, T, T, F, F, F, T),
    ("paused", "approval"):   (F, F, T, T, T, F, F, F, T),
    ("paused", "budget"):     (F, T, F, T, T, F, F, F, F),
    ("paused", "operator"):   (F, T, F, T, T, F, F, T, F),
    ("succeeded", None):      (T, F, F, F, F, F, F, F, F),
    ("failed", None):         (T, F, F, F, F, T, T, T, F),
    ("cancelled", None):      (T, F, F, F, F, T, F, T, F),
}
RUN_PREDICATES = (states.is_finished, states.is_held, states.starts_steps, states.accepts_results,
                  states.can_cancel, states.can_retry, states.offers_retry, states.can_resume, states.can_pause)

# columns: can_decide, waiting to be claimed, rerunnable, done
STEP_TABLE = {
    "pending":          (F, F, F, F),
    "queued":           (F, T, F, F),
    "running":          (F, F, F, F),
    "retrying":         (F, T, F, F),
    "waiting_approval": (T, F, F, F),
    "waiting_children": (F, F, F, F),
    "succeeded":        (F, F, F, T),
    "failed":           (F, F, T, T),
    "skipped":          (F, F, T, T),
    "cancelled":        (F, F, T, T),
    "crashed":          (F, F, T, T),
}


@dataclass
class Run:
    status: str
    pause_reason: str | None = None


@dataclass
class Step:
    status: str


def test_the_tables_cover_every_state():
    assert set(RUN_TABLE) == set(RUNS)
    assert set(STEP_TABLE) == set(STEP_STATES)


@pytest.mark.parametrize("status,reason", RUNS)
def test_run_predicates_match_the_table(status, reason):
    run = Run(status, reason)
    assert tuple(predicate(run) for predicate in RUN_PREDICATES) == RUN_TABLE[(status, reason)]


@pytest.mark.parametrize("status", STEP_STATES)
def test_step_predicates_match_the_table(status):
    step = Step(status)
    decide, waiting, rerunnable, done = STEP_TABLE[status]
    assert states.can_decide(step) is decide
    assert (status in states.STEP_WAITING) is waiting
    assert (status in states.STEP_RERUNNABLE) is rerunnable
    assert (status in states.STEP_DONE) is done


@pytest.mark.parametrize("status,reason", RUNS)
@pytest.mark.parametrize("step_status", STEP_STATES)
def test_a_step_is_claimed_only_when_waiting_in_a_run_that_starts_steps(status, reason, step_status):
    run, step = Run(status, reason), Step(step_status)
    expected = RUN_TABLE[(status, reason)][2] and STEP_TABLE[step_status][1]
    assert states.can_claim(run, step) is expected


@pytest.mark.parametrize("status,reason", RUNS)
@pytest.mark.parametrize("step_status", STEP_STATES)
def test_step_retry_is_offered_for_broken_steps_of_unfinished_or_failed_runs(status, reason, step_status):
    run, step = Run(status, reason), Step(step_status)
    allowed = STEP_TABLE[step_status][2] and status != "succeeded"
    assert states.can_retry_step(run, step) is allowed
    assert states.offers_step_retry(run, step) is (allowed and step_status != "skipped")


@pytest.mark.parametrize("reason", ["budget", "operator"])
@pytest.mark.parametrize("steps", [{"succeeded"}, {"waiting_approval", "running"}, {"failed"}, {"queued"}])
def test_settle_never_lifts_a_hold(reason, steps):
    assert states.settled_status(Run("paused", reason), steps) is None


@pytest.mark.parametrize("status,steps,expected", [
    ("running", {"waiting_approval", "succeeded"}, ("paused", "approval")),
    ("running", {"running", "succeeded"}, ("running", None)),
    ("running", {"succeeded"}, ("succeeded", None)),
    ("running", {"succeeded", "skipped", "failed"}, ("failed", None)),
    ("paused", {"succeeded", "queued"}, ("running", None)),
    ("paused", {"succeeded"}, ("succeeded", None)),
])
def test_settle_follows_the_steps_of_a_running_or_gate_paused_run(status, steps, expected):
    run = Run(status, "approval" if status == "paused" else None)
    assert states.settled_status(run, steps) == expected


@pytest.mark.parametrize("step_status", STEP_STATES)
def test_only_a_running_or_child_waiting_step_has_an_open_attempt(step_status):
    assert states.has_open_attempt(Step(step_status)) is (step_status in ("running", "waiting_children"))


def test_a_step_waiting_for_its_children_keeps_the_run_running_and_is_stopped_by_cancel():
    assert states.settled_status(Run("running"), {"waiting_children", "succeeded"}) == ("running", None)
    assert "waiting_children" in states.STEP_STOPPABLE and "waiting_children" not in states.STEP_ACTIVE


@pytest.mark.parametrize("status", ["queued", "succeeded", "failed", "cancelled"])
def test_settle_leaves_queued_and_finished_runs_alone(status):
    assert states.settled_status(Run(status), {"succeeded"}) is None
