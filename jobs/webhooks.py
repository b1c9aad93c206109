"""RQ entry point for webhook deliveries: ids in, the service does the work."""
from __future__ import annotations

from webapp.events.webhooks.delivery import attempt


def deliver(delivery_id: int, attempts_done: int = 0) -> str:
    """One attempt of one delivery; retries are scheduled by the attempt itself."""
    return attempt(delivery_id, attempts_done)
