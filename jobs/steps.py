"""RQ entry points of the workflow engine (thin: ids in, services do the work)."""
from __future__ import annotations

from rq import get_current_job

from webapp.runs import execution
from webapp.runs import reconcile as reconciler


def execute_step(step_run_id: int) -> None:
    """Run one step attempt; the job's own id says which attempt it stands for."""
    execution.execute_step(step_run_id, get_current_job().id)


def reconcile() -> dict[str, int]:
    """The reconciler as a job, for a periodic schedule."""
    return reconciler.reconcile().as_dict()
