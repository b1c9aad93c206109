"""The bare RQ job of bench/engine.py's baselines: nothing to import, nothing to do."""


def noop() -> None:
    """Return at once."""
