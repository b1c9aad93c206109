"""``task.decompose``: fan out at run time, one child run of ``child_workflow`` per rendered item.

The kind only plans: it checks its inputs and returns ``SpawnChildren``; the engine creates the
child runs when it records the attempt, starts at most ``max_children`` of them at once, and
completes the step when the last one finishes (webapp/runs/children.py). No worker waits
meanwhile. Each child gets ``item``, ``index`` and ``goal`` for those of them its workflow
declares as params.

``child_workflow`` is required: a child's own templates (``{{ params.item }}``) cannot sit in
the parent step's ``with``, which the engine renders in the parent's scope before the kind
sees it.
"""
from __future__ import annotations

from typing import Any

from pydantic import Field

from webapp.steps.base import SpawnChildren, StepContext, StepInputs, StepKind
from webapp.steps.registry import register

MAX_ITEMS = 1000
MAX_CHILDREN = 100


class DecomposeInputs(StepInputs):
    goal: str = Field(default="", max_length=2000)
    items: list[Any] = Field(min_length=1, max_length=MAX_ITEMS)
    child_workflow: str = Field(min_length=1, max_length=100)
    max_children: int = Field(default=5, ge=1, le=MAX_CHILDREN)
    allow_failures: int = Field(default=0, ge=0, le=MAX_ITEMS)


@register
class TaskDecompose(StepKind):
    name = "task.decompose"
    input_schema = DecomposeInputs
    description = ("Starts one run of child_workflow per item, at most max_children at once, without holding a "
                   "worker; the output is the children's outputs in item order.")

    def execute(self, inputs: DecomposeInputs, context: StepContext) -> SpawnChildren:
        return SpawnChildren(items=list(inputs.items), max_children=inputs.max_children,
                             allow_failures=inputs.allow_failures, workflow=inputs.child_workflow, goal=inputs.goal)
