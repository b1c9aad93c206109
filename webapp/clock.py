"""The one source of "now" for business rules (lockouts, expiries, budgets periods).

Tests move time with ``frozen_at`` instead of sleeping, so boundaries such as "locked for
29:59, free at 30:00" are asserted exactly.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

_frozen: datetime | None = None


def utcnow() -> datetime:
    return _frozen if _frozen is not None else datetime.now(UTC)


@contextmanager
def frozen_at(moment: datetime) -> Iterator[None]:
    """Make ``utcnow()`` return ``moment`` inside the block (process-wide, for tests)."""
    global _frozen
    if moment.tzinfo is None:
        raise ValueError("frozen_at needs an aware datetime")
    previous, _frozen = _frozen, moment
    try:
        yield
    finally:
        _frozen = previous
