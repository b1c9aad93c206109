"""UTC calendar periods: a budget's spend counts from the start of the period it falls in.

``day`` starts at midnight UTC, ``week`` on Monday at midnight UTC (ISO weeks), ``month`` on the
first at midnight UTC, and ``total`` never restarts (one period since the epoch). Periods are
computed from ``webapp.clock.utcnow``, so tests cross a boundary with ``frozen_at``.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def period_start(period: str, at: datetime) -> datetime:
    at = at.astimezone(UTC)
    midnight = at.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "day":
        return midnight
    if period == "week":
        return midnight - timedelta(days=midnight.weekday())
    if period == "month":
        return midnight.replace(day=1)
    if period == "total":
        return EPOCH
    raise ValueError(f"unknown budget period {period!r}")


def period_end(period: str, at: datetime) -> datetime | None:
    """The first instant of the next period (None for ``total``, which never ends)."""
    start = period_start(period, at)
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        if start.month == 12:
            return start.replace(year=start.year + 1, month=1)
        return start.replace(month=start.month + 1)
    return None
