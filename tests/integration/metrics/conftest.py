"""Metrics fixtures: scraping the test app, parsing the Prometheus text format."""
from __future__ import annotations

import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.conftest import free_port  # noqa: F401 (re-exported for the metrics tests)
from tests.integration.runs.conftest import make_workflow, operator, workers  # noqa: F401 (reused fixtures)

TOKEN = "metrics-test-token-0123456789abcdef"


def parse(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``{(sample name, sorted labels): value}`` for every sample of a scrape."""
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(samples, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def fetch(url: str, token: str | None = TOKEN) -> str:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (our own http://127.0.0.1 server)
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.read().decode()


@pytest.fixture
def metrics_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    return TOKEN


@pytest.fixture
def scrape(client, metrics_token):
    """Scrape the test app's /metrics with the token; returns the parsed samples."""

    def run():
        response = client.get("/metrics", headers={"Authorization": f"Bearer {metrics_token}"})
        assert response.status_code == 200, response.get_data(as_text=True)
        return parse(response.get_data(as_text=True))

    return run
