"""Server-rendered SVG for the run page: the Gantt timeline of step attempts and the progress bar.

Bar positions and widths are SVG attributes and colours are CSS classes (``status-<status>``),
never ``style=""``, so the CSP can forbid inline styles. A step that is still running is drawn
up to ``now``; a step that never started has no bar, only its label.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from markupsafe import Markup, escape

from webapp.runs.models import StepRun
from webapp.runs.states import STEP_DONE

LABEL_WIDTH, CHART_WIDTH, ROW_HEIGHT, BAR_HEIGHT, AXIS_HEIGHT = 150, 560, 24, 14, 18
PROGRESS_WIDTH, PROGRESS_HEIGHT = 400, 14


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


@dataclass(frozen=True)
class Span:
    """One bar of the timeline: an attempt (or a gate's wait), and the wait before it."""

    step: str
    attempt: int
    status: str
    queued_at: datetime | None
    started_at: datetime
    finished_at: datetime | None


def spans_of(step: StepRun) -> list[Span]:
    """Every attempt of the step; a step with no attempt row yet (a gate waiting) as itself."""
    spans = [Span(step.step_key, attempt.attempt, attempt.status, attempt.queued_at, attempt.started_at,
                  attempt.finished_at) for attempt in step.attempts if attempt.started_at is not None]
    if not spans and step.started_at is not None:
        spans.append(Span(step.step_key, step.attempt, step.status, None, step.started_at, step.finished_at))
    return spans


def gantt_svg(steps: Sequence[StepRun], now: datetime) -> Markup:
    """One row per step: a bar per attempt, from its start to its end (or now), with the time
    it waited in the queue (a retry's backoff included) drawn thin before it."""
    rows = [(step, spans_of(step)) for step in steps]
    spans = [span for _, row in rows for span in row]
    origin = min([span.queued_at or span.started_at for span in spans], default=now)
    end = max([span.finished_at or now for span in spans], default=now)
    scale = CHART_WIDTH / max((end - origin).total_seconds(), 0.001)
    width, height = LABEL_WIDTH + CHART_WIDTH + 8, AXIS_HEIGHT + ROW_HEIGHT * len(steps)
    parts = [f'<svg class="gantt" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
             f'width="{width}" height="{height}" role="img" aria-label="Timeline of step attempts">',
             f'<text class="gantt-axis" x="{LABEL_WIDTH}" y="12">0 s</text>',
             f'<text class="gantt-axis" x="{LABEL_WIDTH + CHART_WIDTH}" y="12" text-anchor="end">'
             f'{escape(seconds_text((end - origin).total_seconds()))}</text>']
    for index, (step, row) in enumerate(rows):
        y = AXIS_HEIGHT + index * ROW_HEIGHT
        parts.append(f'<text class="gantt-label" x="0" y="{y + BAR_HEIGHT}">{escape(step.step_key[:20])}</text>')
        for span in row:
            parts.extend(span_svg(span, y, origin, scale, now))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text goes through escape())


def span_svg(span: Span, y: int, origin: datetime, scale: float, now: datetime) -> list[str]:
    def x_of(moment: datetime) -> float:
        return LABEL_WIDTH + scale * (moment - origin).total_seconds()

    took = max(0.0, ((span.finished_at or now) - span.started_at).total_seconds())
    parts = []
    if span.queued_at is not None and span.queued_at < span.started_at:
        waited = (span.started_at - span.queued_at).total_seconds()
        parts.append(f'<rect class="gantt-wait" data-step="{escape(span.step)}" data-attempt="{span.attempt}" '
                     f'x="{x_of(span.queued_at):.1f}" y="{y + 9}" width="{max(scale * waited, 1):.1f}" height="4">'
                     f'<title>{escape(span.step)} · attempt {span.attempt} waited {escape(seconds_text(waited))}'
                     f'</title></rect>')
    parts.append(f'<rect class="gantt-bar status-{escape(span.status)}" data-step="{escape(span.step)}" '
                 f'data-attempt="{span.attempt}" x="{x_of(span.started_at):.1f}" y="{y + 3}" '
                 f'width="{max(scale * took, 2):.1f}" height="{BAR_HEIGHT}" rx="3">'
                 f'<title>{escape(span.step)} · attempt {span.attempt} · {escape(span.status)} · '
                 f'{escape(seconds_text(took))}</title></rect>')
    return parts


def progress_svg(steps: Sequence[StepRun]) -> Markup:
    """One segment per step, in step order, coloured by its status (failed red, cancelled grey,
    running blue, not started left as the track), so a failed run never reads as solid green;
    the figure of finished steps is there for screen readers."""
    done = sum(1 for step in steps if step.status in STEP_DONE)
    segment = PROGRESS_WIDTH / (len(steps) or 1)
    parts = [f'<svg class="progress-bar" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {PROGRESS_WIDTH} '
             f'{PROGRESS_HEIGHT}" width="{PROGRESS_WIDTH}" height="{PROGRESS_HEIGHT}" role="img" '
             f'aria-label="{done} of {len(steps)} steps finished" data-done="{done}" data-total="{len(steps)}" '
             f'preserveAspectRatio="none">',
             f'<rect class="progress-track" x="0" y="0" width="{PROGRESS_WIDTH}" height="{PROGRESS_HEIGHT}"/>']
    for index, step in enumerate(steps):
        if step.status in ("pending", "queued"):
            continue
        parts.append(f'<rect class="progress-step status-{escape(step.status)}" data-step="{escape(step.step_key)}" '
                     f'x="{index * segment:.1f}" y="0" width="{max(segment - 1, 1):.1f}" height="{PROGRESS_HEIGHT}">'
                     f'<title>{escape(step.step_key)}: {escape(step.status)}</title></rect>')
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 (every interpolated text goes through escape())
