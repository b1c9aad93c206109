"""What every fault test asserts once the fault is over, and the timings it prints.

- no run lost: each run reaches ``succeeded`` within the test's bound;
- no attempt executed twice: ``fault_executions`` holds at most one row per (run, step, attempt)
  and exactly one for each step's last attempt;
- one cost record per attempt that succeeded with a cost (the ``llm.complete`` steps), none
  for any other attempt;
- retries spent, when the test says none may be.

The convention: steps named ``work_*`` are ``recorded()`` steps, ``cost_*`` are ``llm_step()``.
"""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

from sqlalchemy import select

from tests.faults.plugin import recorded
from tests.integration.runs.conftest import wait_for_run
from webapp.costs.models import CostRecord
from webapp.extensions import db


def llm_step(step_id: str, needs: list[str] | None = None, **extra) -> dict:
    """A step with a cost: one cost record per successful attempt (the run id keeps memo off)."""
    return {"id": step_id, "uses": "llm.complete", "needs": needs or [],
            "with": {"model": "local-small", "prompt": f"{step_id} of run {{{{ run.id }}}}"}, **extra}


def wait_for_runs(run_ids: list[int], bound: float, logs: Callable[[], str] = str) -> list:
    """Every run, finished, within ``bound`` seconds in all; asserts they all succeeded."""
    deadline = time.monotonic() + bound
    finished = [wait_for_run(run_id, timeout=max(0.1, deadline - time.monotonic())) for run_id in run_ids]
    assert [run.status for run in finished] == ["succeeded"] * len(run_ids), tail(logs())
    return finished


def assert_intact(runs: list, executions: dict[tuple[int, str, int], int], no_retries: bool = False) -> None:
    """The invariants above, for finished ``runs`` and the rows of ``fault_executions``."""
    assert set(executions.values()) <= {1}, {key: n for key, n in executions.items() if n > 1}
    for run in runs:
        for step in run.steps:
            if step.step_key.startswith("work_"):
                assert executions.get((run.id, step.step_key, step.attempt)) == 1, (run.id, step.step_key)
                assert all(attempt <= step.attempt for (run_id, key, attempt) in executions
                           if (run_id, key) == (run.id, step.step_key))
            if no_retries:
                assert step.attempt == 1, (run.id, step.step_key, step.attempt)
    records = db.session.execute(select(CostRecord).where(CostRecord.run_id.in_([run.id for run in runs]))).scalars()
    per_attempt = Counter((record.step_run_id, record.attempt) for record in records)
    expected = {(step.id, step.attempt) for run in runs for step in run.steps if step.step_key.startswith("cost_")}
    assert set(per_attempt) == expected and set(per_attempt.values()) <= {1}, per_attempt


def tail(text: str, lines: int = 60) -> str:
    """The end of a log, for an assertion message."""
    return "\n".join(text.splitlines()[-lines:])


def report(what: str, seconds: float) -> None:
    """Print a measured recovery time (pytest -s, or the captured output of a failure)."""
    print(f"\n[faults] {what}: {seconds:.1f} s")


def chain(name: str, seconds: float, retry: dict | None = None) -> dict:
    """A workflow of three steps: a recorded step taking ``seconds``, a costed one, a short recorded one."""
    policy = {"retry": retry} if retry else {}
    return {"name": name, "steps": [recorded("work_a", seconds, **policy), llm_step("cost_b", ["work_a"], **policy),
                                    recorded("work_c", 0.2, ["cost_b"], **policy)]}
