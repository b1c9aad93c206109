"""``flask events``: run the dispatcher, publish what is pending once, prune, show the backlog."""
from __future__ import annotations

import json
import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

from webapp.events import queries, runner
from webapp.events.dispatcher import Dispatcher
from webapp.events.housekeeping import prune


@click.group("events")
def events_cli() -> None:
    """The event bus: outbox dispatcher and maintenance."""


@events_cli.command("dispatch")
@click.option("--once", is_flag=True, help="Publish what is pending now, then exit.")
@click.option("--amqp-url", default=None, help="Override AMQP_URL for this dispatcher.")
@click.option("--no-listen", is_flag=True, help="Poll only (EVENTS_POLL_SECONDS); no LISTEN/NOTIFY.")
@with_appcontext
def dispatch_command(once: bool, amqp_url: str | None, no_listen: bool) -> None:
    """Publish outbox events until stopped (SIGINT/SIGTERM finish the current batch first)."""
    app = current_app._get_current_object()
    logging.getLogger("pika").setLevel(logging.WARNING)  # pika logs every connection step at INFO
    dispatcher = Dispatcher(app, amqp_url=amqp_url)
    if once:
        total = 0
        try:
            while True:
                result = dispatcher.dispatch_once()
                if result.error:
                    raise click.ClickException(f"stopped: {result.error} ({total} published)")
                total += result.published
                if result.claimed < dispatcher.batch_size:
                    break
        finally:
            dispatcher.close()
        click.echo(f"published {total} events")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    runner.run(app, stop, dispatcher, listen=not no_listen)


@events_cli.command("prune")
@with_appcontext
def prune_command() -> None:
    """Delete events published or failed more than EVENTS_RETENTION_DAYS ago."""
    click.echo(f"pruned {prune(current_app.config['EVENTS_RETENTION_DAYS'])} events")


@events_cli.command("status")
@with_appcontext
def status_command() -> None:
    """The backlog as JSON: pending rows, age of the oldest, failed rows."""
    click.echo(json.dumps(queries.backlog()))
