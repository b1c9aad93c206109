"""RQ entry point for the memory maintenance sweep (expired entries, orphaned blobs)."""
from __future__ import annotations

import logging

from webapp.memory.service import sweep as sweep_memory

log = logging.getLogger(__name__)


def sweep(grace_seconds: float | None = None) -> dict[str, int]:
    """Run ``webapp.memory.service.sweep``; enqueue as ``jobs.memory.sweep`` (or run ``flask memory gc``)."""
    result = sweep_memory(grace_seconds)
    log.info("memory sweep: %s", result)
    return result
