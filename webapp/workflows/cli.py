"""``flask workflows ...``: import definitions from files (``make run`` imports the examples)."""
from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.workflows import service

workflows_cli = AppGroup("workflows", help="Manage workflow definitions.")


@workflows_cli.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def import_command(path: Path) -> None:
    """Create or update a workflow from a JSON or YAML file.

    Importing the same definition again adds no version, so scripts may run it on every start.
    Invalid files print every problem and exit with status 1.
    """
    try:
        workflow, outcome = service.import_workflow(path.read_text(encoding="utf-8"))
        db.session.commit()
    except DomainError as error:
        db.session.rollback()
        click.echo(f"{path}: {error.message}", err=True)
        for problem in error.details.get("errors", []):
            step = f"step {problem['step']}, " if problem.get("step") else ""
            click.echo(f"  - {step}{problem.get('field') or problem.get('param')}: {problem['message']}", err=True)
        raise SystemExit(1) from None
    messages = {
        "created": f"Created workflow {workflow.slug} (version 1).",
        "updated": f"Updated workflow {workflow.slug} to version {workflow.current_version}.",
        "unchanged": f"Workflow {workflow.slug} is unchanged (version {workflow.current_version}).",
        "archived": f"Workflow {workflow.slug} is archived; nothing changed.",
    }
    click.echo(messages[outcome])
