"""``flask memory ...``: the maintenance sweep and the statistics, for cron and operators."""
from __future__ import annotations

import json

import click
from flask.cli import AppGroup

from webapp.memory import service

memory_cli = AppGroup("memory", help="The memory tiers: statistics and maintenance.")


@memory_cli.command("gc")
@click.option("--grace", type=float, default=None,
              help="Keep unreferenced blobs younger than this many seconds (default MEMORY_BLOB_GRACE_SECONDS).")
def gc_command(grace: float | None) -> None:
    """Delete expired entries and orphaned L4 blobs; prints what was removed as JSON."""
    click.echo(json.dumps(service.sweep(grace)))


@memory_cli.command("stats")
def stats_command() -> None:
    """Print every tier's statistics as JSON."""
    click.echo(json.dumps(service.stats_json(), indent=2))
