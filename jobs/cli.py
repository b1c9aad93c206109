"""``flask jobs ...``: check that workers pick up work."""
from __future__ import annotations

import json
import time

import click
from flask.cli import AppGroup

from webapp.queues import enqueue

jobs_cli = AppGroup("jobs", help="Inspect the job queue plumbing.")


@jobs_cli.command("ping")
@click.option("--timeout", default=10.0, show_default=True, help="Seconds to wait for a worker.")
@click.option("--queue", default="default", show_default=True)
def ping_command(timeout: float, queue: str) -> None:
    """Enqueue a ping job and print what the worker that ran it answered."""
    job = enqueue("jobs.maintenance.ping", "cli", queue=queue, result_ttl=60)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = job.get_status(refresh=True)
        if status == "finished":
            click.echo(json.dumps(job.return_value()))
            return
        if status == "failed":
            raise click.ClickException(f"the ping job failed: {job.latest_result().exc_string}")
        time.sleep(0.1)
    job.cancel()
    raise click.ClickException(f"no worker answered on queue {queue!r} within {timeout:g}s")
