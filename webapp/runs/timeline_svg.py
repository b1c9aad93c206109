"""Server-rendered SVG for the run page: the Gantt timeline of step attempts and the progress bar.

Bar positions and widths are SVG attributes and colours are CSS classes (``status-<status>``),
never ``style=""``, so the CSP can forbid inline styles. A step that is still running is drawn
up to ``now``; a step that never started has no bar, only its label.
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from markupsafe import Markup, escape

from webapp.runs.models import StepRun

LABEL_WIDTH, CHART_WIDTH, ROW_HEIGHT, BAR_HEIGHT, AXIS_HEIGHT = 150, 560, 24, 14, 18
PROGRESS_WIDTH, PROGRESS_HEIGHT = 400, 14
DONE_STATES = frozenset({"succeeded", "failed", "skipped", "cancelled", "crashed"})


def seconds_text(seconds: float) -> str:
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def duration(step: StepRun, now: datetime) -> float | None:
    if step.started_at is None:
        return None
    return max(0.0, ((step.finished_at or now) - step.started_at).total_seconds())


def gantt_svg(steps: Sequence[StepRun], now: datetime) -> Markup:
    """One row per step: a bar from its latest attempt's start to its end (or now)."""
    started = [step.started_at for step in steps if step.started_at is not None]
    origin = min(started, default=now)
    end = max([step.finished_at or now for step in steps if step.started_at is not None], default=now)
    span = max((end - origin).total_seconds(), 0.001)
    width, height = LABEL_WIDTH + CHART_WIDTH + 8, AXIS_HEIGHT + ROW_HEIGHT * len(steps)
    parts = [f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="Timeline of step attempts">',
             f'<text class="gantt-axis" x="{LABEL_WIDTH}" y="12">0 s</text>',
             f'<text class="gantt-axis" x="{LABEL_WIDTH + CHART_WIDTH}" y="12" text-anchor="end">'
             f'{escape(seconds_text(span))}</text>']
    for index, step in enumerate(steps):
        y = AXIS_HEIGHT + index * ROW_HEIGHT
        parts.append(f'<text class="gantt-label" x="0" y="{y + BAR_HEIGHT}">{escape(step.step_key[:20])}</text>')
        took = duration(step, now)
        if took is None:
            continue
        x = LABEL_WIDTH + CHART_WIDTH * (step.started_at - origin).total_seconds() / span
        bar = max(CHART_WIDTH * took / span, 2)
        parts.append(f'<rect class="gantt-bar status-{escape(step.status)}" data-step="{escape(step.step_key)}" '
                     f'x="{x:.1f}" y="{y + 3}" width="{bar:.1f}" height="{BAR_HEIGHT}" rx="3">'
                     f'<title>{escape(step.step_key)} · attempt {step.attempt} · {escape(step.status)} · '
                     f'{escape(seconds_text(took))}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text goes through escape())


def progress_svg(steps: Sequence[StepRun]) -> Markup:
    """Finished steps out of all steps, as a bar with its figure for screen readers."""
    done = sum(1 for step in steps if step.status in DONE_STATES)
    total = len(steps) or 1
    filled = PROGRESS_WIDTH * done / total
    parts = [f'<svg class="progress-bar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PROGRESS_WIDTH} '
             f'{PROGRESS_HEIGHT}" width="{PROGRESS_WIDTH}" height="{PROGRESS_HEIGHT}" role="img" '
             f'aria-label="{done} of {len(steps)} steps finished" data-done="{done}" data-total="{len(steps)}">',
             f'<rect class="progress-track" x="0" y="0" width="{PROGRESS_WIDTH}" height="{PROGRESS_HEIGHT}" rx="7"/>',
             f'<rect class="progress-fill" x="0" y="0" width="{filled:.1f}" height="{PROGRESS_HEIGHT}" rx="7"/>',
             "</svg>"]
    return Markup("".join(parts))  # noqa: S704 (every interpolated text goes through escape())
