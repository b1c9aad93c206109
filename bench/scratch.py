"""The scratch database and environment every benchmark runs in.

``scratch_environment()`` creates a PostgreSQL database of its own on BENCH_DATABASE_URL's
server, points this process's environment (and so the app and any worker it starts) at it and
at BENCH_REDIS_URL, and drops the database at the end, however the benchmark ends.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from sqlalchemy.engine import make_url

DEFAULT_SERVER = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"


@contextmanager
def scratch_environment(redis_url: str = "redis://127.0.0.1:6379/14", **extra: str) -> Iterator[dict[str, str]]:
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
