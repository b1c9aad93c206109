"""``flask workflows run SLUG`` (added to the workflows group) and ``flask reconcile``."""
from __future__ import annotations

import json
import time

import click
from flask.cli import with_appcontext

from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.runs import actions, service
from webapp.runs.reconcile import reconcile
from webapp.runs.states import RUN_FINISHED

WAIT_POLL_SECONDS = 0.5


def parse_param(text: str) -> tuple[str, object]:
    """``k=v``; the value is read as JSON when it is JSON (``n=3``, ``flag=true``), else as text."""
    name, sep, raw = text.partition("=")
    if not sep or not name:
        raise click.BadParameter(f"{text!r} is not NAME=VALUE", param_hint="--param")
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, raw


@click.command("run")
@click.argument("slug")
@click.option("--param", "params", multiple=True, help="NAME=VALUE (repeatable); JSON values are parsed.")
@click.option("--idempotency-key", default=None, help="Return the existing run if this key was used before.")
@click.option("--wait", is_flag=True, help="Wait until the run finishes; exit 1 unless it succeeded.")
@click.option("--timeout", default=600.0, show_default=True, help="Seconds --wait waits at most.")
@with_appcontext
def run_command(slug: str, params: tuple[str, ...], idempotency_key: str | None, wait: bool, timeout: float) -> None:
    """Trigger a run of workflow SLUG (as no user: the audit trail says the CLI did it)."""
    try:
        run, created = actions.trigger_run(slug, dict(parse_param(p) for p in params), None, idempotency_key)
    except DomainError as error:
        raise click.ClickException(error.message) from None
    click.echo(f"run {run.id} {'created' if created else 'already existed'}: {run.status}", err=True)
    run_id = run.id
    deadline = time.monotonic() + timeout
    while wait and run.status not in RUN_FINISHED and time.monotonic() < deadline:
        time.sleep(WAIT_POLL_SECONDS)
        db.session.expire_all()
        run = service.get_run(run_id)
    click.echo(json.dumps({"run": service.run_json(run)}, indent=2))
    if wait and run.status != "succeeded":
        raise click.ClickException(f"run {run_id} is {run.status}")


@click.command("reconcile")
@click.option("--grace", default=10.0, show_default=True,
              help="Leave steps queued less than this many seconds ago alone (their job may be on its way).")
@click.option("--overdue", default=30.0, show_default=True,
              help="Enqueue scheduled retries that are this many seconds past their time.")
@with_appcontext
def reconcile_command(grace: float, overdue: float) -> None:
    """Repair runs after worker crashes or a Redis loss: crashed steps retry, lost jobs are re-enqueued."""
    click.echo(json.dumps(reconcile(grace_seconds=grace, overdue_seconds=overdue).as_dict()))
