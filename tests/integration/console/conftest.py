"""The console tests reuse the run-page fixtures: runs in any state written directly, no worker."""
from tests.integration.run_pages.conftest import make_run, pipeline  # noqa: F401
from tests.integration.runs.conftest import make_workflow, operator  # noqa: F401
