"""Reading a task tree into a flat DAG, and every structural problem with it, each naming its task.

A tree is ``{"tasks": [{"id", "title", "uses", "with", "depends_on": [ids], "children": [tasks]}]}``.
Decisions written down here:

- **Children run before their parent completes**: a parent waits for all its children, and
  its children wait for whatever the parent ``depends_on`` (they belong to it, so they cannot
  start before it could). A task that depends on its own ancestor is therefore a cycle.
- **A parent without ``uses``** collects its children: it becomes a ``template.render`` step
  whose output is the list of its children's outputs, in the order they are listed.
- ``timeout``, ``retry`` and ``cache`` pass through to the generated step unchanged, so the
  workflow validator checks them with the same rules and messages as any workflow.
- **Caps come first.** The walk that counts tasks stops one past ``max_tasks``, so a tree of
  10,000 tasks is refused after reading 501 of them, and nothing is planned. Nesting deeper
  than ``max_depth`` is reported at the first task too deep, and its subtree is not read.
  The walk is iterative, so no tree can exhaust the stack.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from webapp.workflows import graph
from webapp.workflows.definition import STEP_ID
from webapp.workflows.params import type_name

TREE_FIELDS = frozenset({"tasks"})
TASK_FIELDS = frozenset({"id", "title", "uses", "with", "depends_on", "children", "timeout", "retry", "cache"})
PASSED_THROUGH = ("timeout", "retry", "cache")
COLLECT = "template.render"
MAX_TITLE = 200


@dataclass(frozen=True)
class TaskError:
    """One problem: the task it is about (its id, or its path when it has no usable id)."""

    task: str | None
    field: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Task:
    id: str
    title: str
    uses: str | None
    with_: dict[str, Any]
    depends_on: list[str]
    children: list[str] = field(default_factory=list)
    parent: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    inherited: list[str] = field(default_factory=list)

    def needs(self, known: set[str]) -> list[str]:
        """What this task waits for: its own and its parent's dependencies, then its children."""
        seen: dict[str, None] = {}
        for name in (*self.depends_on, *self.inherited, *self.children):
            if name in known and name != self.id:
                seen.setdefault(name)
        return list(seen)


@dataclass
class Tree:
    tasks: list[Task]
    errors: list[TaskError]

    @property
    def needs(self) -> dict[str, list[str]]:
        known = {task.id for task in self.tasks}
        return {task.id: task.needs(known) for task in self.tasks}


def count_error(tree: Any, max_tasks: int) -> TaskError | None:
    """The cap's error if ``tree`` holds more than ``max_tasks`` tasks; reads at most one more."""
    pending = [tree.get("tasks")] if isinstance(tree, dict) else []
    seen = 0
    while pending:
        level = pending.pop()
        if not isinstance(level, list):
            continue
        for task in level:
            seen += 1
            if seen > max_tasks:
                return TaskError(None, "tasks", f"the tree has more than {max_tasks} tasks, the limit "
                                                f"(DECOMPOSITION_MAX_TASKS); split the goal or raise the limit")
            if isinstance(task, dict):
                pending.append(task.get("children"))
    return None


def read_tree(tree: Any, *, max_tasks: int, max_depth: int) -> Tree:
    """The flat tasks of ``tree`` in pre-order, and all its structural problems."""
    if not isinstance(tree, dict):
        return Tree([], [TaskError(None, "tree", f'must be an object like {{"tasks": [...]}}, got {type_name(tree)}')])
    errors = [TaskError(None, key, "unknown field (allowed: tasks)") for key in sorted(set(tree) - TREE_FIELDS)]
    if not isinstance(tree.get("tasks"), list) or not tree["tasks"]:
        return Tree([], errors + [TaskError(None, "tasks", "must be a non-empty list of tasks")])
    too_many = count_error(tree, max_tasks)
    if too_many is not None:
        return Tree([], errors + [too_many])
    tasks: list[Task] = []
    ids: set[str] = set()
    # (task, path, depth, parent) in pre-order: reversed pushes keep the listed order.
    pending = [(raw, f"tasks[{index}]", 1, None) for index, raw in reversed(list(enumerate(tree["tasks"])))]
    while pending:
        raw, path, depth, parent = pending.pop()
        task, problems = _read_task(raw, path, ids)
        errors += problems
        if task is None:
            continue
        if parent is not None:
            parent.children.append(task.id)
            task.parent, task.inherited = parent.id, [*parent.depends_on, *parent.inherited]
        tasks.append(task)
        children = raw.get("children", [])
        if not isinstance(children, list):
            errors.append(TaskError(task.id, "children", f"must be a list of tasks, got {type_name(children)}"))
        elif children and depth >= max_depth:
            errors.append(TaskError(task.id, "children", f"nests deeper than {max_depth} levels, the limit "
                                                         "(DECOMPOSITION_MAX_DEPTH)"))
        else:
            pending += [(child, f"{path}.children[{index}]", depth + 1, task)
                        for index, child in reversed(list(enumerate(children)))]
    for task in tasks:
        errors += [TaskError(task.id, f"depends_on[{index}]", f"refers to an unknown task {name!r}")
                   for index, name in enumerate(task.depends_on) if name not in ids]
        if task.uses is None and not task.children:
            errors.append(TaskError(task.id, "uses", "is required: the step kind that does this task "
                                                     "(only a task with children may leave it out)"))
    result = Tree(tasks, errors)
    result.errors += [TaskError(cycle[0], "depends_on", "dependencies form a cycle: " + " -> ".join(cycle + [cycle[0]]))
                      for cycle in graph.cycles(result.needs)]
    return result


def _read_task(raw: Any, path: str, ids: set[str]) -> tuple[Task | None, list[TaskError]]:
    """The task at ``path`` (None if it has no usable id) and its own problems."""
    if not isinstance(raw, dict):
        return None, [TaskError(path, "task", f"must be an object, got {type_name(raw)}")]
    task_id = raw.get("id")
    label = task_id if isinstance(task_id, str) and task_id else path
    errors = [TaskError(label, key, f"unknown field (allowed: {', '.join(sorted(TASK_FIELDS))})")
              for key in sorted(set(raw) - TASK_FIELDS)]
    title = raw.get("title", task_id)
    if not isinstance(title, str) or len(title) > MAX_TITLE:
        errors.append(TaskError(label, "title", f"must be a string of at most {MAX_TITLE} characters"))
        title = str(task_id)
    uses = raw.get("uses")
    if uses is not None and not isinstance(uses, str):
        errors.append(TaskError(label, "uses", f"must be the name of a step kind, got {type_name(uses)}"))
        uses = None
    with_ = raw.get("with", {})
    if not isinstance(with_, dict):
        errors.append(TaskError(label, "with", f"must be an object of inputs, got {type_name(with_)}"))
        with_ = {}
    depends_on = raw.get("depends_on", [])
    if not isinstance(depends_on, list) or not all(isinstance(name, str) for name in depends_on):
        errors.append(TaskError(label, "depends_on", "must be a list of task ids"))
        depends_on = []
    elif len(set(depends_on)) != len(depends_on):
        errors.append(TaskError(label, "depends_on", "lists a task more than once"))
    if not isinstance(task_id, str) or not STEP_ID.match(task_id):
        errors.append(TaskError(label, "id", "is required: letters, digits and underscores, not starting with a "
                                             "digit, at most 64 characters"))
        return None, errors
    if task_id in ids:
        return None, errors + [TaskError(task_id, "id", f"duplicate task id {task_id!r}")]
    ids.add(task_id)
    extra = {key: raw[key] for key in PASSED_THROUGH if key in raw}
    return Task(task_id, title or task_id, uses, with_, list(dict.fromkeys(depends_on)), extra=extra), errors


def to_steps(tree: Tree) -> list[dict[str, Any]]:
    """The workflow steps of the tree's tasks, in dependency order (each after all it needs)."""
    needs = tree.needs
    by_id = {task.id: task for task in tree.tasks}
    steps = []
    for task_id in topological_order(needs):
        task = by_id[task_id]
        uses, with_ = task.uses, task.with_
        if uses is None:
            uses = COLLECT
            with_ = {"template": "{{ [" + ", ".join(f"steps.{child}.output" for child in task.children) + "] }}"}
        step = {"id": task.id, "name": task.title, "uses": uses, "needs": needs[task.id], **task.extra}
        if with_:
            step["with"] = with_
        steps.append(step)
    return steps


def topological_order(needs: dict[str, list[str]]) -> list[str]:
    """Kahn's order, ties in the listed order; nodes on a cycle come last, in listed order."""
    waiting = {node: len(deps) for node, deps in needs.items()}
    users: dict[str, list[str]] = {node: [] for node in needs}
    for node, deps in needs.items():
        for dep in deps:
            users[dep].append(node)
    ready = [node for node in needs if waiting[node] == 0]
    order: list[str] = []
    while ready:
        next_ready: list[str] = []
        for node in ready:
            order.append(node)
            for user in users[node]:
                waiting[user] -= 1
                if waiting[user] == 0:
                    next_ready.append(user)
        ready = next_ready
    placed = set(order)
    return order + [node for node in needs if node not in placed]
