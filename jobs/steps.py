"""RQ entry points of the workflow engine (thin: ids in, services do the work)."""
from __future__ import annotations

from rq import get_current_job

from jobs.memory import sweep_if_due
from webapp.runs import execution
from webapp.runs import reconcile as reconciler


def execute_step(step_run_id: int, run_id: int | None = None) -> None:
    """Run one step attempt; the job's own id says which attempt it stands for.

    ``run_id`` lets the claim lock the run without reading the step first; jobs enqueued by
    an earlier release carry only the step's id, and the claim looks the run up.
    """
    execution.execute_step(step_run_id, get_current_job().id, run_id=run_id)


def reconcile(budget_seconds: float | None = None) -> dict[str, int]:
    """The periodic reconcile (``jobs.reconcile_timer``, or as a job); the hourly memory sweep
    rides along."""
    report = reconciler.reconcile(budget_seconds=budget_seconds).as_dict()
    swept = sweep_if_due()
    if swept is not None:
        report.update({f"memory_{name}": count for name, count in swept.items()})
    return report
