"""Domain events: the outbox table and ``publish``. The dispatcher is a later issue."""
from webapp.events.service import publish

__all__ = ["publish"]
