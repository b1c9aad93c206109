"""Run rows in any state, written directly (no worker), for the run-page and Overview tests."""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import pytest

from tests.integration.runs.conftest import make_workflow, operator  # noqa: F401 (shared fixtures)
from webapp.clock import utcnow

TRACEBACK = "Traceback (most recent call last):\nStepFailed: boom"
PIPELINE = {"name": "pipeline", "params": {"who": {"type": "string", "default": "world"}}, "steps": [
    {"id": "fetch", "uses": "template.render", "with": {"template": "hello {{ params.who }}"}},
    {"id": "check", "uses": "control.fail", "needs": ["fetch"], "with": {"times": 1, "message": "boom"}},
    {"id": "approve", "uses": "gate.approval", "needs": ["check"], "with": {"prompt": "Ship it?"}},
]}


@pytest.fixture
def pipeline(make_workflow):  # noqa: F811 (the fixture imported above)
    return make_workflow(PIPELINE)


@pytest.fixture
def make_run(db, pipeline):
    """``make_run("failed", ["succeeded", "failed", "skipped"], ago=timedelta(hours=2))``."""
    from webapp.runs.models import StepRun, WorkflowRun
    from webapp.workflows.service import get_version

    def make(status: str = "succeeded", steps: list[str] | None = None, *, ago: timedelta = timedelta(minutes=1),
             workflow=None, triggered_by: int | None = None, output=None, error: str | None = None) -> WorkflowRun:
        workflow = workflow or pipeline
        created: datetime = utcnow() - ago
        statuses = steps or ["succeeded"] * 3
        run = WorkflowRun(workflow_id=workflow.id, workflow_version_id=get_version(workflow).id, status=status,
                          params={"who": "world"}, triggered_by=triggered_by, created_at=created,
                          started_at=created, finished_at=created + timedelta(seconds=9) if status in (
                              "succeeded", "failed", "cancelled") else None, error=error)
        run.steps = [StepRun(step_key=key, position=index, status=state, attempt=0 if state == "pending" else 1,
                             started_at=None if state in ("pending", "queued") else created + timedelta(seconds=index),
                             finished_at=created + timedelta(seconds=index + 1) if state in (
                                 "succeeded", "failed", "skipped", "cancelled", "crashed") else None,
                             worker="host:1" if state not in ("pending", "queued") else None,
                             output=output if state == "succeeded" else None,
                             error=TRACEBACK if state == "failed" else None,
                             cost=Decimal("0.0125"))
                     for index, (key, state) in enumerate(zip(["fetch", "check", "approve"], statuses, strict=True))]
        db.session.add(run)
        db.session.commit()
        return run

    return make
