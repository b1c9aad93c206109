"""``flask decompositions import FILE``: plan a decomposition from a file (``make run`` imports the example)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from webapp.decomposition import service
from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.workflows.loading import load_definition

decompositions_cli = AppGroup("decompositions", help="Plan task decompositions.")


@decompositions_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Validate and plan ``{"goal", "strategy", "input"}`` from a JSON or YAML file, and store it.

    A decomposition with the same goal, strategy and input is not stored twice, so scripts may
    run this on every start. Invalid files print every problem and exit with status 1.
    """
    try:
        raw = load_definition(path.read_text(encoding="utf-8"))
        if not isinstance(raw, dict) or not {"goal", "strategy"} <= set(raw) or not set(raw) <= {
                "goal", "strategy", "input"}:
            raise click.UsageError(f'{path} must hold {{"goal", "strategy", "input"}}')
        existing = service.find_same(raw["goal"], raw["strategy"], raw.get("input"))
        if existing is not None:
            click.echo(f"Decomposition {existing.id} already plans this goal; nothing changed.")
            return
        decomposition = service.create(raw["goal"], raw["strategy"], raw.get("input"))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.echo(f"{path}: {error.message}", err=True)
        for problem in error.details.get("errors", []):
            task = f"task {problem['task']}, " if problem.get("task") else ""
            click.echo(f"  - {task}{problem.get('field')}: {problem['message']}", err=True)
        raise SystemExit(1) from None
    plan = decomposition.plan
    click.echo(f"Planned decomposition {decomposition.id}: {plan['task_count']} tasks, {len(plan['levels'])} levels, "
               f"about {plan['estimated_cost']} USD.")
