"""Benchmark drawing the workflow graph (layout + SVG) as DAGs grow, in one process.

Prints p50/p95 of ``render_svg`` for layered random DAGs of 10, 50, 100 and 200 steps (each
step needs up to three steps of the 30 before it, the shape tests/unit/test_dag_svg.py checks),
the SVG's size and its natural width and height, and each size's p50 as a ratio of the 10-step
p50 (the baseline). The run page redraws its graph on every poll, so this is the per-poll cost.

    .venv/bin/python bench/dag.py [--repeat 40]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.unit.test_dag_svg import random_dag  # noqa: E402
from webapp.console.dag_svg import layout, render_svg  # noqa: E402

SIZES = (10, 50, 100, 200)


def timings(steps: list[dict], repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        render_svg(steps)
        samples.append((time.perf_counter() - started) * 1000)
    return sorted(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    baseline = None
    print(f"{'steps':>5} {'edges':>5} {'p50 ms':>8} {'p95 ms':>8} {'x base':>7} {'svg KB':>7}  natural size")
    for size in SIZES:
        steps = random_dag(size, seed=size, reach=30)
        samples = timings(steps, args.repeat)
        p50 = statistics.median(samples)
        p95 = samples[min(len(samples) - 1, int(len(samples) * 0.95))]
        baseline = baseline or p50
        placed = layout(steps)
        print(f"{size:>5} {len(placed.edges):>5} {p50:>8.2f} {p95:>8.2f} {p50 / baseline:>7.1f} "
              f"{len(render_svg(steps)) / 1024:>7.1f}  {placed.width} x {placed.height} px")


if __name__ == "__main__":
    main()
