"""The scratch database and environment every benchmark runs in.

``scratch_environment()`` creates a PostgreSQL database of its own on BENCH_DATABASE_URL's
server, points this process's environment (and so the app and any worker it starts) at it and
at BENCH_REDIS_URL, and drops the database at the end, however the benchmark ends.
``scratch_app()`` adds what most benchmarks then do: the app made on that environment, its
schema upgraded, its Redis db emptied before and after, and its app context entered.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from redis import Redis
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/14"


@contextmanager
def scratch_environment(redis_url: str = DEFAULT_REDIS, **extra: str) -> Iterator[dict[str, str]]:
    """Yield the full environment (``os.environ`` updated with it); ``extra`` adds settings."""
    server = make_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_SERVER))
    admin = server.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    name = f"flowdeck_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "FLOWDECK_ENV": "test", "FLOWDECK_INSTANCE_DIR": tempfile.mkdtemp(prefix="flowdeck-bench-"),
           "DATABASE_URL": server.set(drivername="postgresql+psycopg", database=name)
           .render_as_string(hide_password=False),
           "REDIS_URL": os.environ.get("BENCH_REDIS_URL", redis_url),
           "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET": secrets.token_urlsafe(48),
           "LOG_LEVEL": "warning", "FLASK_APP": "wsgi", "AMQP_URL": "", "RECONCILE_INTERVAL_SECONDS": "0",
           "BCRYPT_ROUNDS": "4", **extra}
    os.environ.update(env)
    try:
        yield env
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def scratch_app(redis_url: str = DEFAULT_REDIS, config: dict[str, Any] | None = None,
                **extra: str) -> Iterator[tuple[Any, dict[str, str]]]:
    """Yield ``(app, env)`` inside the app's context, on a ``scratch_environment``: the schema is
    upgraded, the Redis db is emptied before (what an earlier run left) and after (what this one
    queued), and the connection pool is closed before the database is dropped. ``config``
    goes to ``create_app``."""
    with scratch_environment(redis_url, **extra) as env:
        redis = Redis.from_url(env["REDIS_URL"])
        redis.flushdb()
        try:
            from flask_migrate import upgrade

            from webapp import create_app
            from webapp.extensions import db

            app = create_app(config)
            with app.app_context():
                upgrade()
                try:
                    yield app, env
                finally:
                    db.session.remove()
                    db.engine.dispose()
        finally:
            redis.flushdb()
            redis.close()
