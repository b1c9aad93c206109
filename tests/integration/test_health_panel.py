"""The /health console panel: a whole page, or only its block for htmx polls; never cached."""
from tests.integration.test_health_api import health_settings


def test_panel_page_shows_a_card_per_component(client, redis, login_as):
    login_as("viewer")
    response = client.get("/health")
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and response.headers["Cache-Control"] == "no-store"
    assert "<html" in html and 'id="health-panel"' in html
    assert 'hx-trigger="every 5s, sse:health"' in html
    for name in ("database", "redis", "rabbitmq", "workers"):
        assert f'data-testid="check-{name}"' in html
    assert "not configured" in html and "noeviction" in html
    assert " style=" not in html and "<script>" not in html


def test_htmx_poll_gets_only_the_panel_block(client, redis, login_as):
    login_as("viewer")
    response = client.get("/health", headers={"HX-Request": "true"})
    html = response.get_data(as_text=True)
    assert response.headers["Cache-Control"] == "no-store"
    assert html.lstrip().startswith('<section id="health-panel"') and "<html" not in html


def test_panel_draws_a_latency_sparkline_from_the_history(app, client, redis, login_as):
    login_as("viewer")
    with health_settings(app, HEALTH_CACHE_SECONDS=0.0):
        for _ in range(3):
            client.get("/api/v3/health/system")
        html = client.get("/health").get_data(as_text=True)
    assert html.count('<svg class="sparkline"') == 5  # one per check
    assert '<polyline points="44.0,' in html  # after the scale's labels


def test_poll_interval_is_configurable(app, client, redis, login_as):
    login_as("viewer")
    with health_settings(app, HEALTH_POLL_SECONDS=2):
        html = client.get("/health").get_data(as_text=True)
    assert 'hx-trigger="every 2s, sse:health"' in html


def test_overview_loads_the_health_summary(client, redis, login_as):
    login_as("viewer")
    overview = client.get("/").get_data(as_text=True)
    assert 'hx-get="/health/summary"' in overview
    summary = client.get("/health/summary")
    assert summary.headers["Cache-Control"] == "no-store"
    assert 'data-testid="health-summary"' in summary.get_data(as_text=True)


def test_anonymous_panel_redirects_to_login_and_htmx_gets_hx_redirect(client):
    assert client.get("/health").status_code == 302
    polled = client.get("/health", headers={"HX-Request": "true"})
    assert polled.status_code == 401 and polled.headers["HX-Redirect"].startswith("/login")
