"""The engine's fixtures (real ``flask worker`` processes, bounded waits), reused as they are."""
from tests.integration.runs.conftest import operator, workers  # noqa: F401
