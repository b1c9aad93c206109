"""/metrics is open to METRICS_TOKEN or METRICS_ALLOWED_NETWORKS, never to the world."""
from __future__ import annotations

import ipaddress

from prometheus_client import CONTENT_TYPE_LATEST

from tests.integration.metrics.conftest import TOKEN


def test_metrics_are_refused_when_neither_a_token_nor_a_network_is_configured(client):
    response = client.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.get_data(as_text=True)


def test_a_wrong_or_missing_bearer_token_is_refused(client, metrics_token):
    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", headers={"Authorization": "Bearer not-the-token"}).status_code == 403
    assert client.get("/metrics", headers={"Authorization": f"Basic {TOKEN}"}).status_code == 403


def test_the_bearer_token_opens_metrics_in_prometheus_text_format(client, metrics_token):
    response = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 200
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert response.headers["Cache-Control"] == "no-store"
    assert "# TYPE flowdeck_http_requests_total counter" in response.get_data(as_text=True)


def test_an_allowed_network_scrapes_without_a_token_and_others_do_not(app, client, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_ALLOWED_NETWORKS", (ipaddress.ip_network("10.0.0.0/8"),))
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "10.1.2.3"}).status_code == 200
    assert client.get("/metrics", environ_base={"REMOTE_ADDR": "192.168.1.5"}).status_code == 403
