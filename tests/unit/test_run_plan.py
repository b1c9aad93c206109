"""What the engine reads of a definition: which outputs a step's templates read, and whether
any step of the run can wait."""
from types import SimpleNamespace

import pytest

from webapp.runs.plan import plan_for

VERSION_IDS = iter(range(10_000, 20_000))


def plan(*steps: dict):
    version = SimpleNamespace(id=next(VERSION_IDS), definition_hash="test", definition={"steps": list(steps)})
    return plan_for(version)


def step(step_id: str, needs=(), uses="template.render", **with_):
    return {"id": step_id, "uses": uses, "needs": list(needs), "with": with_}


CHAIN = (step("a", template="a"), step("b", ["a"], template="b"),
         step("c", ["b"], template="{{ steps.a.output }} {{ steps['b'].output }}"),
         step("d", ["c"], template="no step named"), step("e", ["d"], template="{{ steps | length }}"))


@pytest.mark.parametrize("step_id, reads", [
    ("a", set()), ("b", set()), ("c", {"a", "b"}), ("d", set()), ("e", {"a", "b", "c", "d"}),
])
def test_a_step_reads_the_upstream_outputs_its_templates_name_or_all_when_it_uses_steps_whole(step_id, reads):
    assert plan(*CHAIN).reads(step_id) == reads


def test_a_name_that_is_not_upstream_is_not_read():
    assert plan(step("a", template="a"), step("b", template="{{ steps.a.output }}")).reads("b") == set()


@pytest.mark.parametrize("uses, may_wait", [
    ("template.render", False), ("gate.approval", True), ("task.decompose", True), ("plugin.gone", True),
])
def test_a_plan_knows_whether_a_step_can_wait(uses, may_wait):
    assert plan(step("a", template="a"), {"id": "b", "uses": uses}).steps_may_wait is may_wait
