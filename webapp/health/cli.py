"""``flask health``: the same snapshot as /api/v3/health/system, for shells and container HEALTHCHECKs."""
from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from webapp.health import service
from webapp.health.checks import Status


@click.command("health")
@click.option("--ready", is_flag=True, help="Only the readiness checks (database and Redis).")
@with_appcontext
def health_command(ready: bool) -> None:
    """Print every check with its details as JSON; exit 1 when the result is UNHEALTHY."""
    snapshot = service.readiness() if ready else service.system_snapshot()
    click.echo(json.dumps(snapshot.to_dict(with_details=True), indent=2, default=str))
    service.aggregator().shutdown()
    if snapshot.status is Status.UNHEALTHY:
        raise SystemExit(1)
