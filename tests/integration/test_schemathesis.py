"""Schemathesis, every check, against gunicorn serving the app: the document and the server agree.

Fixed seed and a bounded number of examples per operation, so the run is reproducible and
takes about a minute and a half on two cores. The one widened check and its reason are in
tests/integration/schemathesis/schemathesis.toml.
"""
import os
import re
import subprocess

from sqlalchemy import text

from tests.conftest import BIN, ROOT
from tests.e2e.conftest import live_server  # noqa: F401 (the gunicorn fixture)

SEED = "20261201"
CONFIG = ROOT / "tests" / "integration" / "schemathesis" / "schemathesis.toml"


def test_schemathesis_with_every_check_finds_no_failure(live_server, db, api_headers, tmp_path):  # noqa: F811
    # The fuzzer's own admin gets an id no generated request will use, so that suspending,
    # demoting or locking "user 1" can never end the session the run authenticates with.
    db.session.execute(text("SELECT setval('users_id_seq', 2000000000)"))
    db.session.commit()
    headers, _ = api_headers("admin")
    command = [
        str(BIN / "st"), "--config-file", str(CONFIG), "run", f"{live_server}/api/v3/openapi.json",
        "--checks", "all", "--seed", SEED, "--max-examples", "10", "--workers", "2",
        "--generation-database", "none", "--request-timeout", "20", "--no-color",
        "-H", f"Authorization: {headers['Authorization']}",
        # Logging out would end the run's own session; logout has its own tests.
        "--exclude-path", "/api/v3/auth/logout",
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "SCHEMATHESIS_HOOKS": ""})
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report  # non-zero on any failure of any check
    assert re.search(r"\b(\d+) generated, \1 passed", result.stdout), report  # every generated case passed
