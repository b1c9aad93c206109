"""One computation per missing key, across every process: a short Redis lock, a bounded wait.

The first caller to miss takes ``memory:lock:<key>`` (SET NX with a timeout, so a holder that
dies frees it after ``MEMORY_LOCK_TIMEOUT_SECONDS``) and computes; the others poll L2 and the
lock every few milliseconds and take the value as soon as the holder's commit has put it
there. A waiter gives up after ``MEMORY_LOCK_WAIT_SECONDS`` and computes itself: a slow or
stuck holder costs a duplicate computation, never a caller that hangs. If Redis cannot be
reached nobody can coordinate, and every caller computes.
"""
from __future__ import annotations

import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

from redis import RedisError

from webapp.extensions import db
from webapp.memory import keys
from webapp.memory.invalidation import hold_lock
from webapp.memory.store import Hit, MemoryStore

log = logging.getLogger(__name__)
POLL_SECONDS = 0.005
RELEASE_SCRIPT = "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
NO_LOCK = ""  # Redis was unreachable: compute without coordination


def acquire(store: MemoryStore, namespace: str, key: str) -> str | None:
    """A token if this caller now holds the key's lock, ``NO_LOCK`` without Redis, else None."""
    token = secrets.token_hex(8)
    try:
        taken = store.redis.set(keys.lock_key(namespace, key), token, nx=True,
                                px=int(store.lock_timeout * 1000))
    except RedisError as error:
        log.warning("memory: cannot take the lock for %s/%s, computing without it: %s", namespace, key, error)
        return NO_LOCK
    return token if taken else None


def release(store: MemoryStore, name: str, token: str) -> None:
    """Free the lock if it is still ours (an expired lock may belong to someone else now)."""
    if token == NO_LOCK:
        return
    try:
        store.redis.eval(RELEASE_SCRIPT, 1, name, token)
    except RedisError as error:
        log.warning("memory: could not release %s (it expires by itself): %s", name, error)


def wait_for(store: MemoryStore, namespace: str, key: str) -> Hit | None:
    """Wait (bounded) for the lock holder's value; None if it did not come."""
    store.stats.count("lock_waits")
    deadline = time.monotonic() + store.lock_wait
    value_name, lock_name = keys.value_key(namespace, key), keys.lock_key(namespace, key)
    while time.monotonic() < deadline:
        try:
            present, locked = store.redis.pipeline(transaction=False).exists(value_name).exists(lock_name).execute()
        except RedisError:
            return None
        if present or not locked:
            return store.get(namespace, key)
        time.sleep(POLL_SECONDS)
    log.warning("memory: waited %.1fs for %s/%s to be computed elsewhere; computing it here",
                store.lock_wait, namespace, key)
    return None


def claim(store: MemoryStore, namespace: str, key: str) -> tuple[Hit | None, str | None]:
    """Read the key; on a miss, either wait for whoever computes it or become the one who does.

    Returns (hit, None) when a value was found (now or after waiting), else (None, token): the
    caller computes, stores the value with ``put(..., write_through=True)``, and the lock is
    released when its transaction ends (``hold_lock``).
    """
    hit = store.get(namespace, key)
    if hit is not None:
        return hit, None
    token = acquire(store, namespace, key)
    if token is None:
        hit = wait_for(store, namespace, key)
        if hit is not None:
            return hit, None
        token = acquire(store, namespace, key) or NO_LOCK
    elif token != NO_LOCK:
        hit = store.get(namespace, key)  # computed and released between our read and our lock
        if hit is not None:
            release(store, keys.lock_key(namespace, key), token)
            return hit, None
    hold_lock(db.session, store, keys.lock_key(namespace, key), token)
    return None, token


def lead(store: MemoryStore, namespace: str, key: str) -> None:
    """Recompute whatever is stored (a refresh): take the lock if free, so callers that miss
    meanwhile wait for the new value, and release it when the session's work ends."""
    token = acquire(store, namespace, key)
    if token:
        hold_lock(db.session, store, keys.lock_key(namespace, key), token)


def get_or_compute(store: MemoryStore, namespace: str, key: str, compute: Callable[[], Any],
                   ttl: int | None = None) -> tuple[Any, bool]:
    """The value and whether this call computed it; commits ``db.session`` after computing."""
    hit, token = claim(store, namespace, key)
    if hit is not None:
        return hit.value, False
    try:
        value = compute()
        store.put(namespace, key, value, ttl, write_through=True)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        release(store, keys.lock_key(namespace, key), token)
        raise
    store.stats.count("computed")
    return value, True
