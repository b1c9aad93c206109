"""One timestamp format across the API: ISO 8601 UTC with a ``Z``, never ``+00:00`` beside it."""
from __future__ import annotations

import re

ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def timestamps(value) -> list[str]:
    if isinstance(value, dict):
        return [found for item in value.values() for found in timestamps(item)]
    if isinstance(value, list):
        return [found for item in value for found in timestamps(item)]
    return [value] if isinstance(value, str) and ISO.match(value) else []


def test_every_timestamp_the_api_returns_ends_in_z(client, api_headers, make_run, redis):
    run = make_run("failed", ["succeeded", "failed", "skipped"])
    headers, user = api_headers("admin")
    seen: list[str] = []
    for path in ("/api/v3/users", f"/api/v3/users/{user.id}", "/api/v3/auth/sessions", "/api/v3/audit",
                 "/api/v3/workflows", "/api/v3/workflows/pipeline", "/api/v3/workflows/pipeline/versions",
                 "/api/v3/runs", f"/api/v3/runs/{run.id}", "/api/v3/health/system"):
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 503), (path, response.status_code)
        found = timestamps(response.json)
        assert all(moment.endswith("Z") for moment in found), (path, found)
        seen += found
    assert len(seen) >= 10
