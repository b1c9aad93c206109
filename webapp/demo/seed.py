"""Fill a database with the demo workflows and N runs spread over the last 30 days.

Runs come in every state with step rows that agree with them (a failed run has a failed or
crashed step and skipped steps behind it, a paused one waits at its gate, ...), and every LLM
step that ran has its cost record, so run totals equal the sum of their cost records.

Speed is the point: the benchmark seeds 100,000 runs and about 1,000,000 step rows. On
PostgreSQL the database generates them (``webapp.demo.bulk_sql``: INSERT ... SELECT from
generate_series, in the caller's transaction); SQLite, for ``make run`` demos, gets the same
shapes generated here in Python and written in executemany chunks. The workflows themselves go
through ``workflows.service`` like any import.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, insert, select, text

from webapp.clock import utcnow
from webapp.costs import recording
from webapp.costs.models import CostRecord
from webapp.demo import bulk_sql
from webapp.demo.definitions import demo_definitions
from webapp.extensions import db
from webapp.runs.models import StepRun, WorkflowRun
from webapp.users.models import User
from webapp.workflows import service
from webapp.workflows.params import check_params

CHUNK = 5000
RUN_STATUSES = {"succeeded": 80, "failed": 10, "cancelled": 4, "running": 3, "queued": 1.5, "paused": 1.5}
ACTIVE = frozenset({"running", "queued", "paused"})
TOPICS = ("billing", "search", "onboarding", "security", "pricing", "infra", "mobile", "data")
PRICE_IN, PRICE_OUT = Decimal("0.0000005"), Decimal("0.0000015")
RUN_COLUMNS = ("id", "workflow_id", "workflow_version_id", "status", "pause_reason", "paused_at", "params",
               "triggered_by", "created_at", "started_at", "finished_at", "cost_total", "error")
STEP_COLUMNS = ("id", "run_id", "step_key", "position", "status", "attempt", "retries", "worker", "queued_at",
                "started_at", "finished_at", "output", "error", "cost", "cache_hit")
COST_COLUMNS = ("id", "run_id", "step_run_id", "attempt", "kind", "model", "units_in", "units_out",
                "unit_price_in", "unit_price_out", "amount", "currency", "user_id", "workflow_id", "created_at")
OUTPUTS = {"template.render": {"text": "rendered"},
           "llm.complete": {"text": "A short summary.", "model": "local-small"},
           "http.request": {"status": 200, "body": "ok"}, "gate.approval": {"approved": True, "comment": "ok", "by": 1},
           "control.sleep": {"slept": 1}}
ERRORS = ("HTTPError: 503 Service Unavailable from example.com", "TimeoutError: step exceeded 30 s",
          "ValueError: the model returned no text")


@dataclass
class Seeded:
    workflows: int = 0
    runs: int = 0
    steps: int = 0
    costs: int = 0
    statuses: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Shape:
    """What a run needs to know about its workflow's current version."""

    workflow_id: int
    version_id: int
    steps: tuple[tuple[str, str], ...]  # (step id, uses)
    defaults: dict


def seed_workflows() -> list[Shape]:
    """Create (or find, unchanged) the demo workflows; the caller commits."""
    shapes = []
    for definition in demo_definitions():
        workflow, _outcome = service.import_workflow(definition)
        version = service.get_version(workflow)
        steps = tuple((step["id"], step["uses"]) for step in version.definition["steps"])
        defaults, _ = check_params(version.definition["params"], {"topic": "demo"})
        shapes.append(Shape(workflow.id, version.id, steps, defaults))
    return shapes


def seed_demo(runs: int, *, seed: int = 7, now: datetime | None = None) -> Seeded:
    """Add the demo workflows and ``runs`` runs; the caller commits."""
    now = now or utcnow()
    shapes = seed_workflows()
    users = list(db.session.scalars(select(User.id).order_by(User.id).limit(20)))
    first_ids = tuple(_next_id(model) for model in (WorkflowRun, StepRun, CostRecord))
    if db.session.get_bind().dialect.name == "postgresql":
        statuses, steps, costs = bulk_sql.insert_runs(
            shapes, runs, seed=seed, now=now, users=users, statuses=RUN_STATUSES, topics=TOPICS, errors=ERRORS,
            outputs=OUTPUTS, first_ids=first_ids)
        recording.roll_up(CostRecord.id >= first_ids[2])
        _after_bulk_load()
        return Seeded(len(shapes), runs, steps, costs, statuses)
    rng = random.Random(seed)  # noqa: S311 (demo data, repeatable on purpose)
    result = Seeded(workflows=len(shapes))
    next_ids = list(first_ids)
    moments = sorted(now - timedelta(seconds=rng.uniform(0, 30 * 86400)) for _ in range(runs))
    for start in range(0, runs, CHUNK):
        rows = _Chunk(rng, now, next_ids)
        for created_at in moments[start:start + CHUNK]:
            rows.add_run(rng.choice(shapes), created_at, rng.choice(users or [None]))
        next_ids = rows.next_ids
        _insert(WorkflowRun, RUN_COLUMNS, rows.runs)
        _insert(StepRun, STEP_COLUMNS, rows.steps)
        _insert(CostRecord, COST_COLUMNS, rows.costs)
        result.runs += len(rows.runs)
        result.steps += len(rows.steps)
        result.costs += len(rows.costs)
        for run in rows.runs:
            result.statuses[run[3]] = result.statuses.get(run[3], 0) + 1
    recording.roll_up(CostRecord.id >= first_ids[2])
    return result


class _Chunk:
    """Rows of a batch of runs as tuples in the column orders above."""

    def __init__(self, rng: random.Random, now: datetime, next_ids: list[int]):
        self.rng, self.now, self.next_ids = rng, now, list(next_ids)
        self.runs: list[tuple] = []
        self.steps: list[tuple] = []
        self.costs: list[tuple] = []

    def _id(self, index: int) -> int:
        self.next_ids[index] += 1
        return self.next_ids[index] - 1

    def add_run(self, shape: Shape, created_at: datetime, user_id: int | None) -> None:
        rng = self.rng
        status = rng.choices(list(RUN_STATUSES), weights=list(RUN_STATUSES.values()))[0]
        if status in ACTIVE:  # work in progress is recent
            created_at = self.now - timedelta(seconds=rng.uniform(5, 3 * 3600))
        run_id = self._id(0)
        started_at = None if status == "queued" else created_at + timedelta(seconds=rng.uniform(0.1, 3))
        clock, total, error = started_at, Decimal("0"), None
        stop_at = {"succeeded": len(shape.steps), "queued": 0}.get(status, rng.randrange(len(shape.steps)))
        for position, (key, uses) in enumerate(shape.steps):
            step_status, attempt = self._step_status(status, position, stop_at, uses)
            step_id = self._id(1)
            began = finished = None
            if attempt:
                began = clock + timedelta(seconds=rng.uniform(0.01, 0.3))
                finished = began + timedelta(seconds=self._duration(uses))
                if step_status in ("running", "waiting_approval", "queued", "retrying"):
                    finished = None
                clock = finished or began
            cost, cache_hit = self._cost(step_status, uses, run_id, step_id, attempt, shape, user_id, began)
            total += cost
            step_error = rng.choice(ERRORS) if step_status in ("failed", "crashed") else None
            error = error or (f"{key} {step_status}" if step_error else None)
            self.steps.append((step_id, run_id, key, position, step_status, attempt, max(attempt - 1, 0),
                               f"worker-{rng.randint(1, 4)}" if attempt else None, began, began, finished,
                               OUTPUTS.get(uses) if step_status == "succeeded" else None, step_error, cost, cache_hit))
        finished_at = clock + timedelta(seconds=rng.uniform(0.01, 0.2)) if status not in ACTIVE else None
        params = dict(shape.defaults, topic=rng.choice(TOPICS))
        paused = status == "paused"  # the demo's paused runs wait at their gate
        self.runs.append((run_id, shape.workflow_id, shape.version_id, status, "approval" if paused else None,
                          started_at if paused else None, params, user_id, created_at, started_at, finished_at,
                          total, error))

    def _step_status(self, run_status: str, position: int, stop_at: int, uses: str) -> tuple[str, int]:
        """The step's state and attempt count for a run in ``run_status`` that got to ``stop_at``."""
        if position < stop_at:
            return "succeeded", 2 if self.rng.random() < 0.05 else 1
        if position > stop_at:
            return {"failed": "skipped", "cancelled": "cancelled"}.get(run_status, "pending"), 0
        if run_status == "failed":
            return ("crashed" if self.rng.random() < 0.2 else "failed"), self.rng.randint(1, 3)
        if run_status == "cancelled":
            return "cancelled", 1
        if run_status == "paused" and uses == "gate.approval":
            return "waiting_approval", 1
        if run_status == "running":
            return self.rng.choice(("running", "running", "queued", "retrying")), 1
        return "pending", 0

    def _duration(self, uses: str) -> float:
        low, high = {"llm.complete": (0.8, 9), "http.request": (0.1, 2.5), "gate.approval": (60, 7200),
                     "control.sleep": (1, 1.1)}.get(uses, (0.02, 0.4))
        return self.rng.uniform(low, high)

    def _cost(self, status, uses, run_id, step_id, attempt, shape, user_id, at) -> tuple[Decimal, bool]:
        """LLM attempts that ran cost tokens × price and get a cost record; a memo hit costs nothing."""
        if uses != "llm.complete" or status not in ("succeeded", "failed") or not attempt:
            return Decimal("0"), False
        if status == "succeeded" and self.rng.random() < 0.1:
            return Decimal("0"), True
        units_in, units_out = self.rng.randint(200, 4000), self.rng.randint(50, 800)
        amount = units_in * PRICE_IN + units_out * PRICE_OUT
        self.costs.append((self._id(2), run_id, step_id, attempt, "llm", "local-small", units_in, units_out,
                           PRICE_IN, PRICE_OUT, amount, "USD", user_id, shape.workflow_id, at))
        return amount, False


def _next_id(model) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _insert(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """executemany in the session's transaction (the SQLite path)."""
    if rows:
        db.session.execute(insert(model.__table__), [dict(zip(columns, row, strict=True)) for row in rows])


def _after_bulk_load() -> None:
    """Rows were written with explicit ids: move the id sequences past them, refresh planner stats
    (a planner that still thinks the tables are empty picks sequential scans)."""
    connection = db.session.connection()
    for table, model in (("workflow_runs", WorkflowRun), ("step_runs", StepRun), ("cost_records", CostRecord)):
        connection.execute(select(func.setval(func.pg_get_serial_sequence(table, "id"), _next_id(model), False)))
    connection.execute(text("ANALYZE workflow_runs, step_runs, cost_records, cost_daily"))
