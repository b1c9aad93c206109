"""Plan figures against hand-computed values: a chain, a diamond, and a wide fan-out with one long branch."""
from __future__ import annotations

from decimal import Decimal

import pytest

from webapp.decomposition.history import History
from webapp.decomposition.planning import plan_steps
from webapp.steps.llm_providers import count_tokens


def sleep(step_id: str, timeout: int, needs=()):
    return {"id": step_id, "uses": "control.sleep", "needs": list(needs), "with": {"seconds": 0}, "timeout": timeout}


def llm(step_id: str, prompt: str, max_tokens: int, needs=()):
    return {"id": step_id, "uses": "llm.complete", "needs": list(needs),
            "with": {"model": "local-small", "prompt": prompt, "max_tokens": max_tokens}}


def llm_bound(prompt: str, max_tokens: int) -> Decimal:
    """local-small costs 0.0005 per 1,000 tokens in and 0.0015 out (the default LLM_PRICES)."""
    return (Decimal("0.0005") * count_tokens(prompt) + Decimal("0.0015") * max_tokens) / 1000


@pytest.fixture
def ctx(db):
    return db


def test_a_chain_is_one_task_per_level_and_its_whole_length_is_the_critical_path(ctx):
    plan = plan_steps([sleep("a", 10), sleep("b", 20, ["a"]), sleep("c", 5, ["b"])], History())
    assert plan["levels"] == [["a"], ["b"], ["c"]]
    assert plan["critical_path"] == ["a", "b", "c"]
    assert plan["max_parallelism"] == 1 and plan["task_count"] == 3
    assert plan["estimated_duration_s"] == 35.0
    assert plan["tasks"]["b"]["duration_basis"] == "declared timeout"
    assert plan["estimated_cost"] == "0.00000000" and plan["unbounded_tasks"] == 0


def test_a_diamond_takes_its_slower_side_and_is_two_wide(ctx):
    steps = [llm("top", "split the work", 100), llm("left", "left side", 50, ["top"]),
             sleep("right", 90, ["top"]), sleep("bottom", 10, ["left", "right"])]
    history = History(durations={"llm.complete": [30.0, 40.0, 50.0]})  # median 40 s
    plan = plan_steps(steps, history)
    assert plan["levels"] == [["top"], ["left", "right"], ["bottom"]]
    # top 40 + max(left 40, right 90) + bottom 10 = 140, through right
    assert plan["critical_path"] == ["top", "right", "bottom"]
    assert plan["estimated_duration_s"] == 140.0 and plan["max_parallelism"] == 2
    assert plan["tasks"]["top"]["duration_basis"] == "median of 3 past attempts of llm.complete"
    expected = llm_bound("split the work", 100) + llm_bound("left side", 50)
    assert Decimal(plan["estimated_cost"]) == pytest.approx(expected, abs=Decimal("0.00000002"))
    assert plan["estimated_cost"] == plan["upper_bound_cost"]
    assert "2 of 4 tasks from the median of past attempts" in plan["basis"]["duration"]
    assert "0 of 4 tasks from the median of past attempts of the same kind and model" in plan["basis"]["cost"]


def test_a_wide_fan_out_with_one_long_branch_is_as_wide_as_its_branches_and_as_long_as_the_long_one(ctx):
    branches = [sleep(f"b{index}", 5, ["start"]) for index in range(20)]
    long_branch = [sleep("long1", 30, ["start"]), sleep("long2", 30, ["long1"])]
    steps = [sleep("start", 1), *branches, *long_branch,
             sleep("join", 2, [step["id"] for step in branches] + ["long2"])]
    history = History(costs={("llm.complete", "local-small"): [Decimal("0.01"), Decimal("0.03"), Decimal("0.02")]})
    steps.append(llm("summary", "summarise", 10, ["join"]))
    plan = plan_steps(steps, history)
    assert plan["levels"][0] == ["start"]
    assert plan["levels"][1] == [f"b{index}" for index in range(20)] + ["long1"]
    assert plan["levels"][2:] == [["long2"], ["join"], ["summary"]]
    assert plan["max_parallelism"] == 21 and plan["task_count"] == 25
    assert plan["critical_path"] == ["start", "long1", "long2", "join", "summary"]
    # 1 + 30 + 30 + 2 + JOB_TIMEOUT (600: summary declares no timeout and has no duration history)
    assert plan["estimated_duration_s"] == 663.0
    assert plan["tasks"]["summary"]["duration_basis"].startswith("JOB_TIMEOUT")
    # the cost of summary is the median of its kind and model's past attempts, not its bound
    assert plan["estimated_cost"] == "0.02000000"
    assert plan["tasks"]["summary"]["cost_basis"] == "median of 3 past attempts"
    assert Decimal(plan["upper_bound_cost"]) == pytest.approx(llm_bound("summarise", 10), abs=Decimal("0.00000002"))


def test_a_task_reading_upstream_outputs_is_counted_as_unknown_before_the_run(ctx):
    steps = [llm("a", "hello", 10), {"id": "b", "uses": "llm.complete", "needs": ["a"],
                                     "with": {"model": "local-small", "prompt": "{{ steps.a.output.text }}"}}]
    plan = plan_steps(steps, History())
    assert plan["unbounded_tasks"] == 1
    assert plan["tasks"]["b"]["cost_basis"].startswith("unknown before the run")
    assert "1 read upstream outputs" in plan["basis"]["cost"]
