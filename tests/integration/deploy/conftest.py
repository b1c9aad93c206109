from tests.integration.runs.conftest import make_workflow, operator, workers  # noqa: F401 (reused fixtures)
