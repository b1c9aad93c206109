"""The demo workflows: shaped like real ones (fetch, summarise, approve, store), all valid.

Their step counts average ten, so N demo runs make about 10·N step rows, which is the ratio the
benchmark asks for (100,000 runs, 1,000,000 steps).
"""
from __future__ import annotations

from typing import Any


def _chain(prefix: str, count: int, after: list[str]) -> list[dict[str, Any]]:
    steps, needs = [], after
    for index in range(1, count + 1):
        steps.append({"id": f"{prefix}_{index}", "uses": "template.render", "needs": needs,
                      "with": {"template": f"{prefix} part {index} for {{{{ params.topic }}}}"}})
        needs = [f"{prefix}_{index}"]
    return steps


def _fan(prefix: str, width: int, after: list[str]) -> list[dict[str, Any]]:
    return [{"id": f"{prefix}_{index}", "uses": "llm.complete", "needs": after,
             "with": {"model": "local-small", "prompt": f"Summarise section {index} of {{{{ params.topic }}}}"}}
            for index in range(1, width + 1)]


def _workflow(name: str, description: str, steps: list[dict[str, Any]], **params: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "description": description,
            "params": {"topic": {"type": "string", "required": True, "description": "What the run is about"}, **params},
            "steps": steps}


def demo_definitions() -> list[dict[str, Any]]:
    fetch = {"id": "fetch", "uses": "http.request", "with": {"method": "GET", "url": "https://example.com/feed"},
             "retry": {"max": 3, "backoff": [1, 5, 30]}, "timeout": 30}
    gate = {"id": "approve", "uses": "gate.approval", "with": {"prompt": "Publish this digest?"}}
    sections = _fan("section", 6, ["fetch"])
    return [
        _workflow("Daily digest", "Fetch the feed, summarise each section, approve, publish.",
                  [fetch, *sections, {**gate, "needs": [s["id"] for s in sections]},
                   {"id": "publish", "uses": "template.render", "needs": ["approve"],
                    "with": {"template": "Digest for {{ params.topic }}"}}],
                  sections={"type": "integer", "default": 6}),
        _workflow("Invoice extraction", "Parse invoices and book them.",
                  [fetch, *_chain("extract", 8, ["fetch"])], strict={"type": "boolean", "default": True}),
        _workflow("Support triage", "Classify a ticket and draft a reply.",
                  [*_fan("classify", 3, []), *_chain("draft", 4, ["classify_1", "classify_2", "classify_3"])],
                  priority={"type": "number", "default": 0.5}),
        _workflow("Nightly report", "Collect metrics and render the report.",
                  [fetch, *_fan("metric", 8, ["fetch"]),
                   {"id": "render", "uses": "template.render", "needs": [f"metric_{i}" for i in range(1, 9)],
                    "with": {"template": "Report on {{ params.topic }}"}},
                   {"id": "wait", "uses": "control.sleep", "needs": ["render"], "with": {"seconds": 1}},
                   {"id": "archive", "uses": "template.render", "needs": ["wait"],
                    "with": {"template": "archived {{ params.topic }}"}}],
                  recipients={"type": "array", "default": ["ops@example.com"]}),
        _workflow("Content review", "Draft, review with a human, and publish.",
                  [*_chain("draft", 4, []), {**gate, "needs": ["draft_4"]},
                   *_chain("publish", 8, ["approve"])],
                  options={"type": "object", "default": {"tone": "neutral"}}),
    ]
