"""The /events and /webhooks pages: where events go, failed events, the secret shown once."""
from __future__ import annotations

import re

from tests.conftest import csrf_token_from
from webapp.clock import utcnow
from webapp.events.service import publish


def test_events_page_says_where_events_go_and_lists_failed_events(client, db, login_as):
    login_as("viewer")
    stuck = publish("run.failed", {"run_id": 4})
    stuck.failed_at, stuck.attempts = utcnow(), 5
    stuck.last_error = "the message is 2000000 bytes, over EVENTS_MAX_BYTES"
    publish("user.locked", {"user_id": 2, "email": "who@example.com"})
    db.session.commit()
    html = client.get("/events").get_data(as_text=True)
    assert "Redis only" in html and 'data-testid="amqp-not-configured"' in html
    assert "over EVENTS_MAX_BYTES" in html and html.count('data-testid="failed-event"') == 1
    assert "who@example.com" not in html and "personal data: admins only" in html
    assert client.get("/events?type=run.**").status_code == 400


def test_webhook_page_creates_an_endpoint_and_shows_its_secret_once(client, db, redis, login_as, allow_local):
    login_as("admin")
    token = csrf_token_from(client.get("/webhooks").get_data(as_text=True))
    created = client.post("/webhooks", data={"csrf_token": token, "url": "http://127.0.0.1:9/in",
                                             "events": "run.failed, budget.*", "description": "pager"},
                          follow_redirects=True)
    html = created.get_data(as_text=True)
    secret = re.search(r"whsec_[A-Za-z0-9+/=]+", html).group(0)
    assert "budget.*" in html and "run.failed" in html
    again = client.get(created.request.path).get_data(as_text=True)
    assert secret not in again
    refused = client.post("/webhooks", data={"csrf_token": token, "url": "http://10.1.2.3/in", "events": "*"})
    assert refused.status_code == 422 and "WEBHOOK_ALLOWED_HOSTS" in refused.get_data(as_text=True)


def test_webhook_pages_are_for_admins(client, db, login_as):
    login_as("operator")
    assert client.get("/webhooks").status_code == 403


def test_runs_list_refresh_from_the_stream_answers_its_live_block_with_the_filters_kept(client, db, login_as):
    login_as("viewer")
    html = client.get("/runs?status=failed").get_data(as_text=True)
    assert 'sse-connect="/events/stream?topics=run.*,step.*' in html
    assert 'hx-get="/runs?status=failed"' in html and "data-live-fallback" in html
    fragment = client.get("/runs?status=failed&live=12", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert fragment.status_code == 200 and fragment.headers["Cache-Control"] == "no-store"
    assert body.lstrip().startswith('<div id="runs-live"') and "<form method=\"get\"" not in body
    assert 'hx-get="/runs?status=failed"' in body
