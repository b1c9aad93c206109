"""A STEP_PLUGINS module for the fault suite: a ``python.call`` function that records each execution.

Every call inserts one row into ``fault_executions`` (run, step, attempt) on a connection of its
own that commits at once, before the step's result is saved: a test counts how often each
attempt really ran, whatever became of the step afterwards.
"""
import time

from sqlalchemy import text

from webapp.extensions import db
from webapp.steps.python_functions import register_function

CREATE_TABLE = text("CREATE TABLE IF NOT EXISTS fault_executions (id serial PRIMARY KEY, run_id integer NOT NULL, "
                    "step_key text NOT NULL, attempt integer NOT NULL, at timestamptz NOT NULL DEFAULT now())")
MAX_SECONDS = 30.0


@register_function("record_execution")
def record_execution(run_id: str, step_key: str, attempt: str, seconds: float = 0, failing_attempts: int = 0) -> str:
    """Record this execution, then take ``seconds`` (at most MAX_SECONDS), as a real step would;
    the first ``failing_attempts`` attempts then raise."""
    with db.engine.begin() as conn:
        conn.execute(text("INSERT INTO fault_executions (run_id, step_key, attempt) VALUES (:run, :step, :attempt)"),
                     {"run": int(run_id), "step": step_key, "attempt": int(attempt)})
    time.sleep(min(float(seconds), MAX_SECONDS))
    if int(attempt) <= failing_attempts:
        raise RuntimeError(f"{step_key} fails on attempt {attempt} on purpose")
    return f"{step_key} done"


def recorded(step_id: str, seconds: float = 0, needs: list[str] | None = None, failing_attempts: int = 0,
             **extra) -> dict:
    """A workflow step that records its executions and takes ``seconds``."""
    return {"id": step_id, "uses": "python.call", "needs": needs or [],
            "with": {"function": "record_execution",
                     "args": ["{{ run.id }}", step_id, "{{ run.attempt }}", seconds, failing_attempts]}, **extra}
