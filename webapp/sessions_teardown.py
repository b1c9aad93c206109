"""Ending a request's database session when its connection died under it.

Flask-SQLAlchemy removes the session when the app context ends, which rolls its connection
back. If PostgreSQL restarted meanwhile, that rollback raises after the response was made, and
gunicorn answers a bare 500 instead of the response (a 503 from ``webapp.errors`` during an
outage). This teardown runs first: a failed close is logged and the session forgotten; SQLAlchemy
has already invalidated the dead connection, so the pool replaces it.
"""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from webapp.extensions import db

log = logging.getLogger(__name__)


def remove_session_even_if_its_connection_died(_error: BaseException | None = None) -> None:
    try:
        db.session.remove()
    except SQLAlchemyError as error:
        db.session.registry.clear()
        log.warning("dropped a database session whose connection had died: %s", type(error).__name__)


def register_session_teardown(app: Flask) -> None:
    """Call after ``db.init_app``: teardowns run last-registered first."""
    app.teardown_appcontext(remove_session_even_if_its_connection_died)
