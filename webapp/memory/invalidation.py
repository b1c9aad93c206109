"""Keeping every process's L1 honest: the invalidation listener and the after-commit hook.

A write changes L3 (and L4) inside the caller's transaction and queues its invalidation on
the session. Only when that transaction commits does ``after_commit`` bump the key's
generation in Redis, delete the L2 copy and publish the key on ``memory:invalidate``; a
rollback drops the queue (a rolled-back savepoint does
not: invalidating a key that did not change costs one L2 miss, never a stale read). Every
process runs one ``Listener`` thread subscribed to that channel, which evicts the key from
its L1.

L1 is used only while the subscription is known to be live. When the connection drops, the
listener turns L1 off and flushes it, logs that, and reconnects; L1 comes back (empty) once
the new subscription is confirmed, so an invalidation missed in between cannot leave a stale
entry. Whatever happens to Redis, no L1 entry outlives ``MEMORY_L1_TTL_SECONDS``.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from redis import Redis, RedisError
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.retry import Retry
from sqlalchemy import event
from sqlalchemy.orm import Session

from webapp.memory import keys
from webapp.memory.keys import CHANNEL, SEPARATOR

if TYPE_CHECKING:
    from webapp.memory.store import MemoryStore

log = logging.getLogger(__name__)
PENDING = "flowdeck_memory_pending"
LOCKS = "flowdeck_memory_locks"
RECONNECT_SECONDS = (0.05, 0.2, 1.0, 2.0)
SUBSCRIBER_NAME = "flowdeck-memory-sub"
ECHO_SECONDS = 2.0
GEN_TTL_SECONDS = 600  # far longer than any read between looking at a generation and filling L2


def queue(session: Session, store: MemoryStore, op: tuple) -> None:
    """Apply ``op`` to Redis and every L1 once ``session``'s transaction commits."""
    session.info.setdefault(PENDING, []).append((store, op))


def hold_lock(session: Session, store: MemoryStore, name: str, token: str) -> None:
    """Release the stampede lock ``name`` when the session's current work ends."""
    session.info.setdefault(LOCKS, []).append((store, name, token))


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint: the changes are not durable until the outer transaction commits
    pending = session.info.pop(PENDING, None)
    if pending:
        by_store: dict[int, tuple[MemoryStore, list[tuple]]] = {}
        for store, op in pending:
            by_store.setdefault(id(store), (store, []))[1].append(op)
        for store, ops in by_store.values():
            apply(store, ops)
    _release_locks(session)


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction) -> None:
    if previous_transaction.parent is None:
        session.info.pop(PENDING, None)
        _release_locks(session)


def _release_locks(session: Session) -> None:
    from webapp.memory.stampede import release

    for store, name, token in session.info.pop(LOCKS, []):
        release(store, name, token)


def apply(store: MemoryStore, ops: list[tuple]) -> None:
    """After a commit: evict from this L1, then bump generations, delete L2 copies and publish
    to every other L1. If Redis refuses, the listener retries every second (``store.tick``)."""
    for op in ops:
        if op[0] == "k":
            store.l1.invalidate((op[1], op[2]))
        else:
            store.l1.invalidate_namespace(op[1])
    try:
        _apply_redis(store, ops)
    except RedisError as error:
        log.warning("memory: Redis refused %d invalidation(s), retrying every second: %s", len(ops), error)
        store.retry_ops.extend(ops)


def _apply_redis(store: MemoryStore, ops: list[tuple]) -> None:
    pipe = store.redis.pipeline(transaction=False)
    for op in ops:
        if op[0] == "k":
            gen = keys.gen_key(op[1], op[2])
            pipe.incr(gen)
            pipe.expire(gen, GEN_TTL_SECONDS)
            pipe.delete(keys.value_key(op[1], op[2]))
            pipe.get(keys.namespace_gen_key(op[1]))
        else:
            gen = keys.namespace_gen_key(op[1])
            pipe.incr(gen)
            pipe.expire(gen, GEN_TTL_SECONDS)
        pipe.publish(CHANNEL, message_for(op, store.origin))
    store.stats.drain_into(pipe)
    results = iter(pipe.execute())
    for op in ops:
        if op[0] == "k":
            key_gen, _, _, ns_gen, _ = (next(results) for _ in range(5))
            if op[3] is not None:  # write-through: the new value, guarded by the generation we just set
                store._fill_l2(op[1], op[2], op[3], op[4], str(key_gen), (ns_gen or b"").decode())
        else:
            for _ in range(3):
                next(results)
            for name in store.redis.scan_iter(match=keys.namespace_pattern(op[1]), count=1000):
                store.redis.delete(name)


def message_for(op: tuple, origin: str) -> str:
    """``k|origin|ns|key`` or ``n|origin|ns``; a process skips its own messages, having
    already evicted the key from its L1 when it committed."""
    return SEPARATOR.join((op[0], origin, *(op[1:3] if op[0] == "k" else op[1:2])))


class Listener(threading.Thread):
    """Evicts invalidated keys from this process's L1; flushes stats about once a second.

    Every ``ECHO_SECONDS`` it publishes to a channel of its own and expects to hear it back:
    three missed echoes count as a lost subscription (L1 off and flushed, then reconnect)."""

    def __init__(self, store: MemoryStore, url: str, pid: int) -> None:
        super().__init__(name="memory-invalidation", daemon=True)
        self.store = store
        self.url = url
        self.pid = pid
        self.stopped = threading.Event()

    def run(self) -> None:
        failures = 0
        while not self.stopped.is_set():
            try:
                self._listen()
            except Exception as error:  # any failure: L1 off and empty, then reconnect
                self.store.subscription_lost(error)
                delay = RECONNECT_SECONDS[min(failures, len(RECONNECT_SECONDS) - 1)]
                failures += 1
                self.stopped.wait(delay)
            else:
                failures = 0

    def _listen(self) -> None:
        client = Redis.from_url(self.url, socket_timeout=5, socket_connect_timeout=2,
                                client_name=f"{SUBSCRIBER_NAME}-{self.pid}", retry=Retry(NoBackoff(), 0))
        pubsub = client.pubsub()
        # Our own echo channel: a ping we publish must come back through the subscription, or
        # the subscription is dead even if its socket looks fine (a silent network drop).
        echo = f"{CHANNEL}:echo:{self.store.origin}"
        try:
            pubsub.subscribe(CHANNEL, echo)
            heard = pinged = time.monotonic()
            while not self.stopped.is_set():
                message = pubsub.get_message(timeout=1.0)
                now = time.monotonic()
                if message is not None and message["channel"] == echo.encode():
                    heard = now
                elif message is not None:
                    self._handle(message)
                if now - pinged >= ECHO_SECONDS:
                    self.store.redis.publish(echo, b"1")
                    pinged = now
                if now - heard > ECHO_SECONDS * 3:
                    raise RedisConnectionError(f"no echo through the subscription for {now - heard:.1f}s")
                self.store.tick()
        finally:
            try:
                pubsub.close()
                client.close()
            except (RedisError, OSError):
                pass

    def _handle(self, message: dict) -> None:
        if message["type"] == "subscribe" and message["channel"] == CHANNEL.encode():
            self.store.subscription_ready()
            return
        if message["type"] != "message":
            return
        parts = message["data"].decode().split(SEPARATOR)
        if len(parts) > 1 and parts[1] == self.store.origin:
            return
        if parts[0] == "k" and len(parts) == 4:
            self.store.l1.invalidate((parts[2], parts[3]))
        elif parts[0] == "n" and len(parts) == 3:
            self.store.l1.invalidate_namespace(parts[2])
        else:
            log.warning("memory: ignoring an invalidation message we cannot read: %r", message["data"][:200])

    def stop(self) -> None:
        self.stopped.set()
