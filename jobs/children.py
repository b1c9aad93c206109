"""RQ entry point that advances a parent run after one of its child runs finished (webapp/runs/children.py)."""
from __future__ import annotations

from flask import current_app

from webapp.extensions import db
from webapp.queues import enqueue


def enqueue_advance_parent(run_id: int) -> None:
    """One job per finished child: a late duplicate only advances a parent with nothing to do."""
    enqueue("jobs.children.advance_parent", run_id, queue=current_app.config["RQ_QUEUES"][0])


def advance_parent(run_id: int) -> None:
    from webapp.runs.engine import advance, lock_run

    run = lock_run(run_id)
    if run is not None:
        advance(run)
    db.session.commit()
