"""``task.decompose``: fan out at run time, one child run per rendered item.

The children run either ``child_workflow`` (an existing workflow's slug) or, without it, a
workflow that the named ``strategy`` plans from the step's ``goal`` and ``input``, exactly as a
decomposition does (webapp/decomposition/fan_out.py): the tree is validated with the same rules
and caps, and the engine creates it as the workflow ``decomp-<run>-<step>-<attempt>`` when it
records the attempt. One of the two is required.

The kind only plans: it checks its inputs and returns ``SpawnChildren``; the engine creates the
child runs, starts at most ``max_children`` of them at once, and completes the step when the
last one finishes (webapp/runs/children.py). No worker waits meanwhile. Each child gets
``item``, ``index`` and ``goal`` for those of them its workflow declares as params (a planned
workflow declares all three).

A child's own templates (``{{ params.item }}``) cannot sit in the parent step's ``with``, which
the engine renders in the parent's scope before the kind sees it: they come in as data (an
upstream output, or a parent param's value).
"""
from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator, model_validator

from webapp.steps.base import SpawnChildren, StepContext, StepInputs, StepKind
from webapp.steps.registry import register

MAX_ITEMS = 1000
MAX_CHILDREN = 100


class DecomposeInputs(StepInputs):
    strategy: str | None = Field(default=None, min_length=1, max_length=40)
    goal: str = Field(default="", max_length=2000)
    input: Any = None
    items: list[Any] = Field(min_length=1, max_length=MAX_ITEMS)
    child_workflow: str | None = Field(default=None, min_length=1, max_length=100)
    max_children: int = Field(default=5, ge=1, le=MAX_CHILDREN)
    allow_failures: int = Field(default=0, ge=0, le=MAX_ITEMS)

    @field_validator("strategy")
    @classmethod
    def known_strategy(cls, strategy: str | None) -> str | None:
        from webapp.decomposition.strategies import strategy_names  # the strategies import the step kinds

        if strategy is not None and strategy not in strategy_names():
            raise ValueError(f"unknown strategy {strategy!r} (known: {', '.join(strategy_names())})")
        return strategy

    @model_validator(mode="after")
    def one_source(self) -> DecomposeInputs:
        if (self.strategy is None) == (self.child_workflow is None):
            raise ValueError("give either child_workflow (a workflow's slug) or strategy (to plan the children's "
                             "workflow from goal and input), not both")
        if self.child_workflow is not None and self.input is not None:
            raise ValueError("input is the strategy's; with child_workflow, the children take only item, index "
                             "and goal")
        return self


@register
class TaskDecompose(StepKind):
    name = "task.decompose"
    spawns_children = True
    input_schema = DecomposeInputs
    description = ("Starts one child run per item, of child_workflow or of a workflow the strategy plans from goal "
                   "and input, at most max_children at once, without holding a worker; the output is the "
                   "children's outputs in item order.")

    def execute(self, inputs: DecomposeInputs, context: StepContext) -> SpawnChildren:
        definition = None
        if inputs.strategy is not None:
            from webapp.decomposition.fan_out import child_definition

            definition = child_definition(inputs.strategy, inputs.goal, inputs.input, list(inputs.items),
                                          name=f"decomp-{context.run_id}-{context.step_id}-{context.attempt}")
        return SpawnChildren(items=list(inputs.items), max_children=inputs.max_children,
                             allow_failures=inputs.allow_failures, workflow=inputs.child_workflow,
                             definition=definition, goal=inputs.goal)
