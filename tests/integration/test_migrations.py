"""`flask db upgrade` and `flask db downgrade base` work on PostgreSQL and SQLite."""
import secrets

import psycopg
import pytest
from sqlalchemy import create_engine, inspect
from sqlalchemy.engine import make_url

from tests.conftest import admin_dsn
from webapp.extensions import db


@pytest.fixture
def scratch_postgres(database_url):
    server = make_url(database_url)
    name = f"flowdeck_migrate_{secrets.token_hex(4)}"
    admin = admin_dsn(server.set(database="postgres").render_as_string(hide_password=False))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        yield server.set(database=name).render_as_string(hide_password=False)
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def tables(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return set(inspect(engine).get_table_names())
    finally:
        engine.dispose()


def upgrade_and_downgrade(flask_cli, url: str) -> None:
    env = {"DATABASE_URL": url}
    up = flask_cli("db", "upgrade", extra_env=env)
    assert up.returncode == 0, up.stderr
    created = tables(url)
    assert {table.name for table in db.metadata.sorted_tables} <= created
    down = flask_cli("db", "downgrade", "base", extra_env=env)
    assert down.returncode == 0, down.stderr
    assert tables(url) <= {"alembic_version"}


def test_migrations_upgrade_and_downgrade_on_postgresql(app, flask_cli, scratch_postgres):
    upgrade_and_downgrade(flask_cli, scratch_postgres)


def test_migrations_upgrade_and_downgrade_on_sqlite(app, flask_cli, tmp_path):
    upgrade_and_downgrade(flask_cli, f"sqlite:///{tmp_path / 'flowdeck.db'}")


def test_models_match_the_migrations(app, db):
    """Autogenerate finds nothing to do: no model change is missing its migration."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), db.metadata)
    assert diff == []


def test_migration_history_is_one_line():
    """Areas that add migrations side by side must chain them, so `flask db upgrade` has one head."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from tests.conftest import ROOT

    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    assert len(ScriptDirectory.from_config(config).get_heads()) == 1


def rollup_and_records(url: str) -> tuple[list, list]:
    """``cost_daily``'s rows, and the same sums taken from the cost records."""
    from sqlalchemy import text

    day = "date(timezone('UTC', created_at))" if url.startswith("postgresql") else "strftime('%Y-%m-%d', created_at)"
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            held = conn.execute(text("SELECT CAST(day AS text), workflow_id, user_id, model, currency, "
                                     "CAST(spent AS text), CAST(saved AS text), records FROM cost_daily "
                                     "ORDER BY 1, 2, 3, 4, 5")).all()
            sums = ("SELECT CAST({day} AS text), coalesce(workflow_id, 0), coalesce(user_id, 0), coalesce(model, ''), "
                    "currency, CAST(sum(amount) AS text), CAST(coalesce(sum(saved), 0) AS text), count(*) "
                    "FROM cost_records GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5")
            summed = conn.execute(text(sums.format(day=day))).all()
    finally:
        engine.dispose()
    return held, summed


@pytest.mark.parametrize("backend", ["postgresql", "sqlite"])
def test_the_cost_daily_migration_fills_the_rollup_from_the_records_already_written(
        app, flask_cli, scratch_postgres, tmp_path, backend):
    url = scratch_postgres if backend == "postgresql" else f"sqlite:///{tmp_path / 'flowdeck.db'}"
    env = {"DATABASE_URL": url}
    for command in (("db", "upgrade"), ("seed-demo", "--runs", "60"), ("db", "downgrade", "0014_console_invites_logs")):
        done = flask_cli(*command, extra_env=env)
        assert done.returncode == 0, done.stderr
    assert "cost_daily" not in tables(url)
    done = flask_cli("db", "upgrade", extra_env=env)
    assert done.returncode == 0, done.stderr
    held, summed = rollup_and_records(url)
    assert len(summed) > 10 and held == summed
