"""A database outage is a 503 with a request id on pages and API, rendered without the database.

The app under test is the real one pointed at a port where nothing listens, so every query
fails exactly as it does while PostgreSQL restarts; the shared server is never touched.
"""
import socket

import pytest

from tests.conftest import TEST_PASSWORD, FreshContextClient


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens once the socket closes


@pytest.fixture
def outage_app(app):
    from webapp import create_app

    broken = create_app({"TESTING": True, "WTF_CSRF_ENABLED": False,
                         "SQLALCHEMY_DATABASE_URI": f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/gone"})
    broken.test_client_class = FreshContextClient
    yield broken
    with broken.app_context():
        from webapp.extensions import db
        db.engine.dispose()


def signed_in_client(outage_app):
    """A browser whose cookie names a session: resolving it needs the database."""
    client = outage_app.test_client()
    with client.session_transaction() as session:
        session["_user_id"], session["sid"] = "1", "a-session-secret"
    return client


def test_a_page_during_an_outage_is_a_503_page_with_the_request_id(outage_app):
    response = signed_in_client(outage_app).get("/runs")
    body = response.get_data(as_text=True)
    assert response.status_code == 503 and response.mimetype == "text/html"
    assert response.headers["Retry-After"] == "5"
    assert "database is unavailable" in body and response.headers["X-Request-ID"] in body
    assert "Content-Security-Policy" in response.headers


def test_a_login_during_an_outage_is_a_503_page_not_a_bare_500(outage_app):
    response = outage_app.test_client().post("/login", data={"email": "a@example.com", "password": TEST_PASSWORD})
    assert response.status_code == 503 and "Request id" in response.get_data(as_text=True)


def test_the_api_during_an_outage_is_a_503_json_error_with_the_request_id(outage_app):
    from webapp.auth.tokens import issue_access_token

    with outage_app.app_context():
        token = issue_access_token(1, "ab" * 16)  # valid: only its session lookup needs the database
    response = outage_app.test_client().get("/api/v3/runs", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 503
    error = response.json["error"]
    assert error["code"] == "database_unavailable"
    assert error["details"]["request_id"] == response.headers["X-Request-ID"]


def test_an_api_login_during_an_outage_is_a_503(outage_app):
    response = outage_app.test_client().post("/api/v3/auth/login",
                                             json={"email": "a@example.com", "password": TEST_PASSWORD})
    assert (response.status_code, response.json["error"]["code"]) == (503, "database_unavailable")


def test_a_broken_query_on_a_live_database_stays_a_500(client):
    response = client.get("/_test/sql-error")
    assert response.status_code == 500 and "Request id" in response.get_data(as_text=True)


def test_a_500_page_for_a_signed_in_user_does_not_reload_the_user(client, login_as):
    login_as("viewer")
    response = client.get("/_test/sql-error")  # the session is rolled back: every loaded row is expired
    assert response.status_code == 500 and 'data-testid="current-user"' not in response.get_data(as_text=True)


def test_a_connection_that_dies_before_the_session_ends_still_gives_the_answer_not_a_500(app, db, caplog):
    for _ in range(2):  # and the pool hands the next request a live connection
        response = FreshContextClient(app).get("/_test/connection-dies")
        assert (response.status_code, response.get_data(as_text=True)) == (200, "answered")
    assert "dropped a database session whose connection had died" in caplog.text
