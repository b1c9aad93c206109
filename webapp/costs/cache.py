"""Budgets and prices, kept in each process and read again only after one of them changes.

Every step claim and settle asks which budgets apply to its run, and every ``llm.complete``
asks for its model's price; both change rarely, so each process keeps copies in memory under a
token stored in Redis. A transaction that writes a budget or a price replaces the token once it
commits, and the next lookup in any process sees a token its copy was not made under and reads
the table again. The token is read before the table, so a change committed in between is seen
on the following lookup. A step that no budget applies to therefore costs a Redis read and no
SQL.

Whatever happens to Redis, no copy is used for longer than ``MAX_AGE_SECONDS``; while the token
cannot be read, every lookup reads the database.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app
from redis import RedisError
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.costs.budget_models import Budget, Price
from webapp.extensions import db
from webapp.queues import redis_connection

log = logging.getLogger(__name__)
GENERATION_KEY = "flowdeck:costs:cache-token"
EXTENSION = "flowdeck_costs_cache"
CHANGED = "flowdeck_costs_changed"
GENERATION_SEEN = "flowdeck_costs_generation_seen"
MAX_AGE_SECONDS = 60.0
WATCHED = (Budget, Price)
T = TypeVar("T")


@dataclass(frozen=True)
class _Copy:
    token: bytes
    loaded_at: float
    value: Any


def cached(name: str, load: Callable[[], T]) -> T:
    """``load()``'s result as of the last change to budgets or prices."""
    token = _token()
    copies: dict[str, _Copy] = current_app.extensions.setdefault(EXTENSION, {})
    held = copies.get(name)
    if token is not None and held is not None and held.token == token \
            and time.monotonic() - held.loaded_at < MAX_AGE_SECONDS:
        return held.value
    value = load()
    if token is not None and not db.session.info.get(CHANGED):  # never keep this transaction's own writes
        copies[name] = _Copy(token, time.monotonic(), value)
    return value


def _token() -> bytes | None:
    """The current token, read from Redis once per database transaction: what one transaction
    decides (a claim reserving, a step settling) rests on one view of budgets and prices."""
    session = db.session()
    transaction = session.get_transaction()
    seen = session.info.get(GENERATION_SEEN)
    if transaction is not None and seen is not None and seen[0] is transaction:
        return seen[1]
    token = _read_token()
    if transaction is not None and token is not None:
        session.info[GENERATION_SEEN] = (transaction, token)
    return token


def _read_token() -> bytes | None:
    try:
        client = redis_connection()
        token = client.get(GENERATION_KEY)
        if token is None:  # first use, or Redis lost its data: start a token no copy was made under
            client.set(GENERATION_KEY, secrets.token_hex(8), nx=True)
            token = client.get(GENERATION_KEY)
        return token
    except RedisError as error:
        log.warning("costs cache token unreadable (%s); reading the database", error)
        return None


def renew_token() -> None:
    """Make every process read budgets and prices again on its next lookup."""
    current_app.extensions.pop(EXTENSION, None)
    db.session.info.pop(GENERATION_SEEN, None)
    try:
        redis_connection().set(GENERATION_KEY, secrets.token_hex(8))
    except RedisError as error:
        log.warning("could not renew the costs cache token (%s); other processes' copies expire within %ss",
                    error, MAX_AGE_SECONDS)


@event.listens_for(Session, "after_flush")
def _note_writes(session: Session, flush_context) -> None:
    if any(isinstance(obj, WATCHED) for obj in (*session.new, *session.dirty, *session.deleted)):
        session.info[CHANGED] = True


@event.listens_for(Session, "after_commit")
def _renew_after_commit(session: Session) -> None:
    if not session.in_nested_transaction() and session.info.pop(CHANGED, False):
        renew_token()


@event.listens_for(Session, "after_soft_rollback")
def _forget_after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(CHANGED, None)
