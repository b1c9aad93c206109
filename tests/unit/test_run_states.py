"""Every transition of the run and step state machines: the listed ones pass, all others 409."""
import itertools

import pytest

from webapp.errors import status_for
from webapp.exceptions import IllegalTransition
from webapp.runs.states import (
    RUN_STATES,
    RUN_TRANSITIONS,
    STEP_STATES,
    STEP_TRANSITIONS,
    check_run_transition,
    check_step_transition,
)

RUN_ALLOWED = {
    ("queued", "running"), ("queued", "cancelled"),
    ("running", "succeeded"), ("running", "failed"), ("running", "cancelled"), ("running", "paused"),
    ("paused", "running"), ("paused", "cancelled"), ("paused", "paused"),
    ("failed", "running"), ("cancelled", "running"),
}
STEP_ALLOWED = {
    ("pending", "queued"), ("pending", "skipped"), ("pending", "cancelled"), ("pending", "waiting_approval"),
    ("queued", "running"), ("queued", "cancelled"),
    ("running", "succeeded"), ("running", "failed"), ("running", "retrying"), ("running", "cancelled"),
    ("running", "crashed"), ("running", "waiting_children"),
    ("retrying", "queued"), ("retrying", "cancelled"),
    ("waiting_approval", "succeeded"), ("waiting_approval", "failed"), ("waiting_approval", "cancelled"),
    ("waiting_approval", "pending"),
    ("waiting_children", "succeeded"), ("waiting_children", "failed"), ("waiting_children", "cancelled"),
    ("succeeded", "pending"), ("failed", "pending"), ("skipped", "pending"), ("cancelled", "pending"),
    ("crashed", "queued"), ("crashed", "pending"),
}


def test_the_tables_are_exactly_the_documented_machines():
    assert {(a, b) for a, targets in RUN_TRANSITIONS.items() for b in targets} == RUN_ALLOWED
    assert {(a, b) for a, targets in STEP_TRANSITIONS.items() for b in targets} == STEP_ALLOWED


@pytest.mark.parametrize("current,target", sorted(RUN_ALLOWED))
def test_allowed_run_transition_passes(current, target):
    check_run_transition(current, target)


@pytest.mark.parametrize("current,target", sorted(set(itertools.product(RUN_STATES, repeat=2)) - RUN_ALLOWED))
def test_every_other_run_transition_is_refused_with_409_naming_the_state(current, target):
    with pytest.raises(IllegalTransition) as refused:
        check_run_transition(current, target)
    assert status_for(refused.value) == 409 and refused.value.details == {"state": current, "target": target}
    assert f"from {current} to {target}" in refused.value.message


@pytest.mark.parametrize("current,target", sorted(STEP_ALLOWED))
def test_allowed_step_transition_passes(current, target):
    check_step_transition(current, target)


@pytest.mark.parametrize("current,target", sorted(set(itertools.product(STEP_STATES, repeat=2)) - STEP_ALLOWED))
def test_every_other_step_transition_is_refused_with_409_naming_the_state(current, target):
    with pytest.raises(IllegalTransition) as refused:
        check_step_transition(current, target)
    assert status_for(refused.value) == 409 and refused.value.details["state"] == current


def test_unknown_states_are_refused():
    with pytest.raises(IllegalTransition):
        check_run_transition("exploded", "running")
    with pytest.raises(IllegalTransition):
        check_step_transition("queued", "teleported")
