"""``flask seed-demo --runs N``: demo workflows and N runs in every state, on PostgreSQL and SQLite."""
from __future__ import annotations

import sqlite3
import statistics

from sqlalchemy import func, select

from webapp.costs.models import CostRecord
from webapp.runs.models import StepRun, WorkflowRun
from webapp.runs.states import RUN_STATES
from webapp.workflows.models import Workflow


def test_seed_demo_creates_the_workflows_and_runs_it_reports(flask_cli, db):
    result = flask_cli("seed-demo", "--runs", "400", timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Seeded 5 workflows, 400 runs (")
    assert db.session.scalar(select(func.count()).select_from(Workflow)) == 5
    statuses = dict(db.session.execute(select(WorkflowRun.status, func.count()).group_by(WorkflowRun.status)).all())
    assert sum(statuses.values()) == 400 and set(statuses) == set(RUN_STATES)
    steps = db.session.scalar(select(func.count()).select_from(StepRun))
    assert f"{steps} step rows" in result.stdout and 3000 < steps < 5000
    oldest = db.session.scalar(select(func.min(WorkflowRun.created_at)))
    newest = db.session.scalar(select(func.max(WorkflowRun.created_at)))
    assert (newest - oldest).days >= 25


def test_seeded_runs_are_consistent_and_costs_reconcile(flask_cli, db):
    assert flask_cli("seed-demo", "--runs", "300", timeout=120).returncode == 0
    runs_total = db.session.scalar(select(func.sum(WorkflowRun.cost_total)))
    steps_total = db.session.scalar(select(func.sum(StepRun.cost)))
    records_total = db.session.scalar(select(func.sum(CostRecord.amount)))
    assert runs_total == steps_total == records_total > 0
    succeeded_with_open_steps = db.session.scalar(
        select(func.count()).select_from(StepRun).join(WorkflowRun, WorkflowRun.id == StepRun.run_id)
        .where(WorkflowRun.status == "succeeded", StepRun.status != "succeeded"))
    assert succeeded_with_open_steps == 0
    failed_runs = select(WorkflowRun.id).where(WorkflowRun.status == "failed")
    broken = db.session.scalar(select(func.count(func.distinct(StepRun.run_id)))
                               .where(StepRun.run_id.in_(failed_runs), StepRun.status.in_(("failed", "crashed"))))
    assert broken == db.session.scalar(select(func.count()).select_from(failed_runs.subquery()))
    # ids came from the bulk load; the sequence must hand out fresh ones afterwards
    db.session.add(WorkflowRun(workflow_id=1, workflow_version_id=1, params={}))
    db.session.commit()


def test_seed_demo_works_on_sqlite(flask_cli, tmp_path):
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.db'}"}
    assert flask_cli("db", "upgrade", extra_env=env).returncode == 0
    result = flask_cli("seed-demo", "--runs", "60", extra_env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "demo.db") as conn:
        assert conn.execute("SELECT count(*) FROM workflow_runs").fetchone()[0] == 60
        assert conn.execute("SELECT count(*) FROM step_runs").fetchone()[0] > 300
        runs_total, records_total = conn.execute(
            "SELECT (SELECT sum(cost_total) FROM workflow_runs), (SELECT sum(amount) FROM cost_records)").fetchone()
        assert abs(runs_total - records_total) < 1e-9
    # SQLite keeps amounts as floats: the reconciler still finds every total equal to its records
    reconciled = flask_cli("costs", "reconcile", extra_env=env)
    assert reconciled.returncode == 0 and "everything agrees" in reconciled.stdout, reconciled.stdout


def brute_force_stats(workflow_id: int):
    """The list's numbers computed the slow, obvious way: every run in Python."""
    from webapp.workflows.pages import RECENT_RUNS, WorkflowStats

    runs = db_session().scalars(select(WorkflowRun).where(WorkflowRun.workflow_id == workflow_id)
                                .order_by(WorkflowRun.created_at.desc(), WorkflowRun.id.desc())).all()[:RECENT_RUNS]
    finished = [run for run in runs if run.status in ("succeeded", "failed", "cancelled")]
    return WorkflowStats(runs[0].status, len(finished), sum(run.status == "succeeded" for run in finished),
                         statistics.median(run.finished_at - run.started_at for run in finished))


def db_session():
    from webapp.extensions import db as database

    return database.session


def test_workflow_list_stats_match_a_brute_force_count_on_postgresql_and_sqlite(app, db, tmp_path):
    """The PostgreSQL LATERAL path and the SQLite window-function path give the obvious numbers."""
    from flask_migrate import upgrade

    from webapp import create_app
    from webapp.demo.seed import seed_demo
    from webapp.workflows.pages import workflow_stats

    def check() -> None:
        seed_demo(400)
        db_session().commit()
        ids = list(db_session().scalars(select(Workflow.id)))
        assert workflow_stats(ids) == {workflow_id: brute_force_stats(workflow_id) for workflow_id in ids}

    check()
    embedded = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'stats.db'}"})
    with embedded.app_context():
        upgrade()
        check()
        db_session().remove()
