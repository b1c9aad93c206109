"""``flask seed-demo --runs N``: demo workflows and N runs for screenshots and benchmarks."""
from __future__ import annotations

import time

import click

from webapp.extensions import db


@click.command("seed-demo")
@click.option("--runs", "runs", type=click.IntRange(0, 10_000_000), default=1000, show_default=True,
              help="How many runs to add (about ten step rows each).")
@click.option("--seed", type=int, default=7, show_default=True, help="Random seed, for repeatable data.")
def seed_demo_command(runs: int, seed: int) -> None:
    """Add the demo workflows and RUNS runs in every state, spread over the last 30 days.

    Safe to run twice: the workflows are imported idempotently and runs are added, not replaced.
    """
    from webapp.demo.seed import seed_demo

    began = time.monotonic()
    result = seed_demo(runs, seed=seed)
    db.session.commit()
    statuses = ", ".join(f"{name} {count}" for name, count in sorted(result.statuses.items()))
    click.echo(f"Seeded {result.workflows} workflows, {result.runs} runs ({statuses or 'none'}), "
               f"{result.steps} step rows and {result.costs} cost records in {time.monotonic() - began:.1f} s.")
