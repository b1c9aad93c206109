"""Benchmark drawing the workflow graph (layout + SVG) as DAGs grow, in one process.

Prints p50/p95 of ``render_svg`` for layered random DAGs of 10, 50, 100 and 200 steps (each
step needs up to three steps of the 30 before it, the shape tests/unit/test_dag_svg.py checks):
a first draw (layout cache cleared before each sample) and a redraw (the layout cached, as on a
run page that polls), each size's first-draw p50 as a ratio of the 10-step one (the baseline),
the SVG's size and its natural width and height.

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
from webapp.console.dag_layout import _layout  # noqa: E402
from webapp.console.dag_svg import layout, render_svg  # noqa: E402

SIZES = (10, 50, 100, 200)


def timings(steps: list[dict], repeat: int, *, cached: bool) -> tuple[float, float]:
    samples = []
    render_svg(steps)
    for _ in range(repeat):
        if not cached:
            _layout.cache_clear()
        started = time.perf_counter()
        render_svg(steps)
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.95))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    baseline = None
    print(f"{'steps':>5} {'edges':>5} {'first p50':>9} {'p95':>7} {'x base':>7} {'redraw p50':>10} {'p95':>7} "
          f"{'svg KB':>7}  natural size")
    for size in SIZES:
        steps = random_dag(size, seed=size, reach=30)
        first_p50, first_p95 = timings(steps, args.repeat, cached=False)
        again_p50, again_p95 = timings(steps, args.repeat, cached=True)
        baseline = baseline or first_p50
        placed = layout(steps)
        print(f"{size:>5} {len(placed.edges):>5} {first_p50:>9.2f} {first_p95:>7.2f} {first_p50 / baseline:>7.1f} "
              f"{again_p50:>10.2f} {again_p95:>7.2f} {len(render_svg(steps)) / 1024:>7.1f}  "
              f"{placed.width} x {placed.height} px")


if __name__ == "__main__":
    main()
