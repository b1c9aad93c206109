"""``flask costs reconcile [--since]``: check that every total agrees, exit 1 naming what differs."""
from __future__ import annotations

import sys

import click
from flask.cli import AppGroup

from webapp.costs.audit_totals import reconcile_costs
from webapp.costs.schemas import to_utc

costs_cli = AppGroup("costs", help="Cost records, budgets and prices.")


@costs_cli.command("reconcile")
@click.option("--since", default=None, help="Only runs created from this ISO 8601 time on (UTC if no zone).")
def reconcile_command(since: str | None) -> None:
    """Cost records = step totals = run totals = summary, to the cent; no reservation left open."""
    try:
        start = to_utc(since) if since else None
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    findings = reconcile_costs(start)
    checked = ", ".join(f"{count} {what}" for what, count in findings.checked.items())
    if findings.ok:
        click.echo(f"costs reconcile: everything agrees ({checked}).")
        return
    for problem in findings.problems:
        click.echo(problem)
    click.echo(f"costs reconcile: {len(findings.problems)} difference(s) ({checked}).", err=True)
    sys.exit(1)
