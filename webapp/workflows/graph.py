"""The step graph: ``needs`` maps each step id to the ids it waits for."""
from __future__ import annotations


def cycles(needs: dict[str, list[str]]) -> list[list[str]]:
    """Each cycle once, as the list of its steps in ``needs`` order (a self-need is a cycle)."""
    state: dict[str, str] = {}
    found: list[list[str]] = []
    for start in needs:
        if start in state:
            continue
        stack: list[tuple[str, int]] = [(start, 0)]
        path: list[str] = []
        while stack:
            node, index = stack.pop()
            if index == 0:
                state[node] = "open"
                path.append(node)
            children = [child for child in needs.get(node, []) if child in needs]
            if index < len(children):
                stack.append((node, index + 1))
                child = children[index]
                if state.get(child) == "open":
                    found.append(path[path.index(child):])
                elif child not in state:
                    stack.append((child, 0))
            else:
                state[node] = "done"
                path.pop()
    return found


def ancestors(needs: dict[str, list[str]], step: str) -> set[str]:
    """Every step that must finish before ``step`` starts."""
    seen: set[str] = set()
    todo = list(needs.get(step, []))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(needs.get(node, []))
    return seen

