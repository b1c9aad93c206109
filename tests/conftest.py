"""Shared fixtures: a real PostgreSQL database and Redis db for the whole run.

The run creates its own database (``flowdeck_test_<random>``) on TEST_DATABASE_URL's server and
drops it at the end; Redis uses TEST_REDIS_URL (db 15 by default), flushed around each test that
asks for it. Tests commit for real and the ``db`` fixture truncates every table afterwards,
rather than wrapping each test in a rolled-back transaction: many tests here drive the app from
several threads, worker processes or a live server, which a single test transaction cannot see.
"""
from __future__ import annotations

import os
import re
import secrets
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
TEST_PASSWORD = "correct horse battery staple"
CSRF_META = re.compile(r'<meta name="csrf-token" content="([^"]+)"')


def admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@contextmanager
def scratch_database(server_url: str) -> Iterator[str]:
    """A new database ``flowdeck_test_<random>`` on ``server_url``'s server, dropped afterwards."""
    server = make_url(server_url)
    name = f"flowdeck_test_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn(server.render_as_string(hide_password=False)), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield server.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    with psycopg.connect(admin_dsn(server.render_as_string(hide_password=False)), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    server = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    with scratch_database(server) as url:
        yield url


@pytest.fixture(scope="session")
def redis_url() -> str:
    return os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def environment(database_url: str, redis_url: str, instance_dir: Path) -> dict[str, str]:
    """The environment of a test app, and of every worker or server process a test starts."""
    return {
        "FLOWDECK_ENV": "test",
        "FLOWDECK_INSTANCE_DIR": str(instance_dir),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "JWT_SECRET": secrets.token_urlsafe(48),
        "BCRYPT_ROUNDS": "4",
        # Other suites log in many times from 127.0.0.1; rate-limit tests lower these themselves.
        **{f"RATE_LIMIT_{action}": "100000" for action in ("LOGIN", "REGISTER", "REFRESH", "VERIFY", "PASSWORD",
                                                            "ADMIN")},
        "FLASK_APP": "wsgi",
        "AMQP_URL": "",
        "RECONCILE_INTERVAL_SECONDS": "0",  # tests reconcile explicitly; test_periodic_reconcile opts in
        "OVERVIEW_CACHE_SECONDS": "0",  # tests compare the Overview before and after a change
    }


@pytest.fixture(scope="session")
def test_env(database_url: str, redis_url: str, tmp_path_factory) -> dict[str, str]:
    return environment(database_url, redis_url, tmp_path_factory.mktemp("instance"))


def migrated_app(test_env: dict[str, str]) -> Iterator:
    """The test app on ``test_env`` (set in this process's environment meanwhile), migrated."""
    from flask_migrate import upgrade

    from webapp import create_app

    saved = {name: os.environ.get(name) for name in test_env}
    os.environ.update(test_env)
    application = create_app({"TESTING": True})
    add_failure_routes(application)
    with application.app_context():
        upgrade()
    yield application
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def app(test_env: dict[str, str]):
    yield from migrated_app(test_env)


def add_failure_routes(application) -> None:
    """Routes that fail on purpose, to test the 500 handlers; marked public for the route walk."""
    from webapp.extensions import db as database
    from webapp.security import public

    @public
    def boom():
        raise RuntimeError("secret internal detail")

    @public
    def sql_error():
        database.session.execute(text("SELECT * FROM no_such_table"))

    @public
    def connection_dies():
        """Answers after the server ended its session's connection, as a PostgreSQL restart does."""
        pid = database.session.execute(text("SELECT pg_backend_pid()")).scalar()
        with database.engine.connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        return "answered"

    application.add_url_rule("/_test/boom", "test_boom", boom)
    application.add_url_rule("/_test/connection-dies", "test_connection_dies", connection_dies)
    application.add_url_rule("/api/v3/_test/boom", "test_api_boom", boom)
    application.add_url_rule("/_test/sql-error", "test_sql_error", sql_error)


@pytest.fixture
def db(app):
    """An app context with a clean database afterwards (every table truncated, and every
    process's copies of the budgets and prices tables renewed, as a write to them would)."""
    from webapp.costs.cache import renew_token
    from webapp.extensions import db as database

    with app.app_context():
        yield database
        database.session.remove()
        truncate_every_table(database)
        renew_token()


def truncate_every_table(database) -> None:
    """TRUNCATE waits for every open transaction on the tables. A connection left idle in a
    transaction (a server thread of a live-server test, say) would make it wait for ever, and the
    test timer has already fired by then: after 15 s the blockers are named in a warning, ended
    (they are connections to this run's own database) and the TRUNCATE is tried once more. The
    same happens when it deadlocks with a request the live server is still answering (the
    request holds one table and reads another, which the TRUNCATE already holds)."""
    tables = ", ".join(f'"{table.name}"' for table in database.metadata.sorted_tables)
    statement = text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    try:
        with database.engine.begin() as conn:
            conn.execute(text("SET LOCAL lock_timeout = '15s'"))
            conn.execute(statement)
        return
    except OperationalError as error:  # waited too long, or deadlocked with a request still being answered
        if "lock timeout" not in str(error) and "deadlock detected" not in str(error):
            raise
    with database.engine.begin() as conn:
        blockers = conn.execute(text(
            "SELECT pid, state, left(query, 200) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL")).all()
        for pid, _state, _query in blockers:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    warnings.warn(f"TRUNCATE after the test was blocked by open transactions, now ended: {blockers}", stacklevel=1)
    with database.engine.begin() as conn:
        conn.execute(statement)


@pytest.fixture
def redis(app, redis_url: str) -> Iterator[Redis]:
    client = Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


class FreshContextClient(FlaskClient):
    """Gives every request its own app context, as in production.

    Flask reuses an app context that is already pushed (the ``db`` fixture pushes one), which
    would share ``g`` (CSP nonce, Flask-Login's cached user) and the db session across requests.
    """

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db):
    app.test_client_class = FreshContextClient
    return app.test_client()


def csrf_token_from(html: str) -> str:
    match = CSRF_META.search(html)
    assert match, "page has no csrf-token meta tag"
    return match.group(1)


@pytest.fixture
def make_user(db):
    from webapp.users.service import create_user

    def make(role: str = "operator", email: str | None = None, password: str = TEST_PASSWORD, **fields):
        user = create_user(email or f"{role}-{secrets.token_hex(3)}@example.com", password, role=role, **fields)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client, make_user):
    """Log the test client in through the real login form; returns the user."""

    def login(role: str = "operator"):
        user = make_user(role)
        token = csrf_token_from(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": token})
        assert response.status_code == 302, response.get_data(as_text=True)
        return user

    return login


@pytest.fixture
def flask_cli(test_env: dict[str, str]):
    """Run ``flask ...`` in a real subprocess with the test environment."""

    def run(*args: str, timeout: float = 60, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        env = {**os.environ, **test_env, **(extra_env or {})}
        return subprocess.run([str(BIN / "flask"), *args], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=timeout)

    return run


@pytest.fixture
def api_headers(make_user):
    """Bearer headers for a fresh user of ``role``: ``headers, user = api_headers("operator")``.

    Access tokens must name a live API session, so this opens one through the auth service.
    """
    from webapp.auth import sessions
    from webapp.auth.tokens import issue_access_token
    from webapp.extensions import db as database

    def make(role: str = "operator"):
        user = make_user(role)
        row, _ = sessions.start(user, "api", ip="127.0.0.1", user_agent="pytest")
        database.session.commit()
        return {"Authorization": f"Bearer {issue_access_token(user.id, row.id)}"}, user

    return make
