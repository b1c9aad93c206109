"""The tiered store: read through L1 -> L2 -> L3 -> L4, write to L3/L4, invalidate after commit.

- ``get`` tries each tier in turn and fills the faster tiers on the way back. Expired entries
  are never returned: L3 filters on ``expires_at``, L2 copies carry a Redis TTL no longer than
  the entry's, L1 copies live no longer than either.
- ``put``/``delete``/``flush`` change L3 (and write L4 files) in the caller's transaction
  (``db.session``); they touch Redis and the L1s only after that transaction commits (see
  ``invalidation``). Reads see committed values only: they use a connection of their own.
- Filling L2 is conditional (a Lua script compares the key's and namespace's generation with
  the ones seen before reading L3), so a reader that read an old row cannot put it back into
  L2 after a writer's commit has invalidated it.
- ``stampede.get_or_compute`` puts one caller per key, across processes, in charge of a miss.
"""
from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
import time
import weakref
from dataclasses import dataclass
from datetime import timedelta
from time import perf_counter_ns
from typing import Any, NamedTuple

from flask import current_app
from redis import RedisError
from sqlalchemy import delete, event, or_, select

from webapp.clock import utcnow
from webapp.exceptions import InvalidInput, NotFound
from webapp.extensions import db
from webapp.memory import keys
from webapp.memory.blobs import BlobCorrupt, BlobStore
from webapp.memory.invalidation import Listener, apply, queue
from webapp.memory.l1 import LocalTier
from webapp.memory.models import MemoryEntry
from webapp.memory.stats import Recorder
from webapp.queues import redis_client
from webapp.runs.models import WorkflowRun

log = logging.getLogger(__name__)
MAX_TTL_SECONDS = 10 * 365 * 24 * 3600
MAX_NAMESPACES_REMEMBERED = 10_000  # names already checked, so a hot read skips the regex
L1_USAGE_KEY = "memory:l1:usage"
FILL_SCRIPT = """
if (redis.call('get', KEYS[2]) or '') == ARGV[1] and (redis.call('get', KEYS[3]) or '') == ARGV[2] then
  redis.call('set', KEYS[1], ARGV[3], 'PX', ARGV[4])
  return 1
end
return 0
"""
_stores: weakref.WeakSet[MemoryStore] = weakref.WeakSet()


class Hit(NamedTuple):
    value: Any
    tier: str


@dataclass(frozen=True)
class Stored:
    stored: bool
    bytes: int
    tier: str


def check_ttl(ttl: Any, field: str = "ttl") -> int | None:
    if ttl is None:
        return None
    if isinstance(ttl, bool) or not isinstance(ttl, int) or not 1 <= ttl <= MAX_TTL_SECONDS:
        rule = f"must be a whole number of seconds from 1 to {MAX_TTL_SECONDS}, or null for no expiry"
        raise InvalidInput(f"The ttl {rule}.", details={"fields": {field: rule}})
    return ttl


class MemoryStore:
    def __init__(self, config: dict[str, Any]) -> None:
        self.url = config["REDIS_URL"]
        self.redis = redis_client(self.url, timeout=2)
        self.l1 = LocalTier(config["MEMORY_L1_MAX_BYTES"], config["MEMORY_L1_MAX_ENTRIES"],
                            config["MEMORY_L1_TTL_SECONDS"])
        self.blobs = BlobStore(config["BLOB_DIR"])
        self.stats = Recorder()
        self.threshold = config["MEMORY_BLOB_THRESHOLD_BYTES"]
        self.max_value = config["MEMORY_MAX_VALUE_BYTES"]
        self.l2_ttl_ms = config["MEMORY_L2_TTL_SECONDS"] * 1000
        self.l2_max = config["MEMORY_L2_MAX_BYTES"]
        self.lock_timeout = config["MEMORY_LOCK_TIMEOUT_SECONDS"]
        self.lock_wait = config["MEMORY_LOCK_WAIT_SECONDS"]
        self.fill = self.redis.register_script(FILL_SCRIPT)
        self._reset_process()
        _stores.add(self)

    def _reset_process(self) -> None:
        """Start this process's share afresh (at creation, and in a forked child)."""
        self.pid = os.getpid()
        self.origin = f"{self.pid}-{secrets.token_hex(4)}"
        self._start_lock = threading.Lock()
        self.l1_live = False
        self.l1.forget()
        self.stats.forget()
        self.retry_ops: list[tuple] = []
        self.listener: Listener | None = None
        self._namespaces_seen: set[str] = set()

    # -- reading ------------------------------------------------------------------------------

    def get(self, namespace: str, key: str) -> Hit | None:
        if namespace not in self._namespaces_seen:
            keys.check_namespace(namespace)
            if len(self._namespaces_seen) > MAX_NAMESPACES_REMEMBERED:
                self._namespaces_seen.clear()
            self._namespaces_seen.add(namespace)
        keys.check_key(key)
        if self.listener is None:
            self._start_listener()
        entry = (namespace, key)
        if self.l1_live:
            started = perf_counter_ns()
            found, value = self.l1.get(entry)
            if found:
                self.stats.hit("l1", perf_counter_ns() - started, entry, read=True)
                return Hit(value, "l1")
            self.stats.miss("l1")
        self.stats.count("reads")
        hit = self._read_below_l1(namespace, key, entry)
        if hit is not None:
            self.stats.count("read_hits")
        return hit

    def _read_below_l1(self, namespace: str, key: str, entry: tuple[str, str]) -> Hit | None:
        epoch = self.l1.epoch
        started = perf_counter_ns()
        seen = self._read_l2(namespace, key)
        if seen is not None and seen[0] is not None:
            data, ttl_ms = seen[0], seen[1]
            value = keys.decode(data)
            self.stats.hit("l2", perf_counter_ns() - started, entry)
            self.l1.put_if_epoch((namespace, key), value, data, ttl_ms / 1000 if ttl_ms > 0 else None, epoch)
            return Hit(value, "l2")
        if seen is not None:
            self.stats.miss("l2")
        started = perf_counter_ns()
        row = self._read_l3(namespace, key)
        if row is None:
            self.stats.miss("l3")
            return None
        self.stats.hit("l3", perf_counter_ns() - started, entry)
        value, blob_ref, expires_at = row
        if blob_ref is None:
            data, tier = keys.encode(value, max(self.max_value, 1 << 40)), "l3"
        else:
            started = perf_counter_ns()
            try:
                data = self.blobs.read(blob_ref)
            except BlobCorrupt as error:
                log.error("memory: %s/%s points at a bad blob: %s", namespace, key, error)
                self.stats.miss("l4")
                return None
            value, tier = keys.decode(data), "l4"
            self.stats.hit("l4", perf_counter_ns() - started, entry)
        left = None if expires_at is None else (expires_at - utcnow()).total_seconds()
        if seen is not None and len(data) <= self.l2_max:
            self._fill_l2(namespace, key, data, left, seen[2], seen[3])
        self.l1.put_if_epoch((namespace, key), value, data, left, epoch)
        return Hit(value, tier)

    def _read_l2(self, namespace: str, key: str) -> tuple[bytes | None, int, str, str] | None:
        """(value, ttl ms, key generation, namespace generation), or None if Redis failed."""
        pipe = self.redis.pipeline(transaction=False)
        pipe.get(keys.value_key(namespace, key))
        pipe.pttl(keys.value_key(namespace, key))
        pipe.get(keys.gen_key(namespace, key))
        pipe.get(keys.namespace_gen_key(namespace))
        if self.stats.due():  # ride along with this round trip (a forked horse may never tick)
            self.stats.drain_into(pipe)
        try:
            data, ttl_ms, key_gen, ns_gen = pipe.execute()[:4]
        except RedisError as error:
            log.warning("memory: L2 read of %s/%s failed, reading L3: %s", namespace, key, error)
            return None
        return data, int(ttl_ms), (key_gen or b"").decode(), (ns_gen or b"").decode()

    def _read_l3(self, namespace: str, key: str):
        query = select(MemoryEntry.value, MemoryEntry.blob_ref, MemoryEntry.expires_at).where(
            MemoryEntry.namespace == namespace, MemoryEntry.key == key,
            or_(MemoryEntry.expires_at.is_(None), MemoryEntry.expires_at > utcnow()))
        with db.engine.connect() as connection:
            return connection.execute(query).first()

    def _fill_l2(self, namespace: str, key: str, data: bytes, left: float | None, key_gen: str, ns_gen: str) -> None:
        ttl_ms = self.l2_ttl_ms if left is None else min(self.l2_ttl_ms, int(left * 1000))
        if ttl_ms <= 0:
            return
        try:
            self.fill(keys=[keys.value_key(namespace, key), keys.gen_key(namespace, key),
                            keys.namespace_gen_key(namespace)], args=[key_gen, ns_gen, data, ttl_ms])
        except RedisError as error:
            log.warning("memory: could not fill L2 for %s/%s: %s", namespace, key, error)

    # -- writing (in the caller's transaction) ------------------------------------------------

    def put(self, namespace: str, key: str, value: Any, ttl: int | None = None, *,
            write_through: bool = False) -> Stored:
        """Store ``value`` in L3 (or L4 over the threshold) within ``db.session``'s transaction.

        ``write_through`` also puts the new value into L2 after the commit (the stampede
        path does, so waiting callers find it there)."""
        keys.check_namespace(namespace)
        keys.check_key(key)
        ttl = check_ttl(ttl)
        data = keys.encode(value, self.max_value)
        run_id = keys.run_id_of(namespace)
        if run_id is not None and db.session.get(WorkflowRun, run_id) is None:
            raise NotFound(f"Run {run_id} does not exist, so {namespace} cannot hold entries.")
        blob_ref = self.blobs.write(data) if len(data) > self.threshold else None
        now = utcnow()
        fields = {"value": None if blob_ref else value, "blob_ref": blob_ref, "size": len(data),
                  "expires_at": now + timedelta(seconds=ttl) if ttl else None, "updated_at": now}
        db.session.execute(_upsert(namespace, key, run_id, fields))
        through = data if write_through and len(data) <= self.l2_max else None
        queue(db.session, self, ("k", namespace, key, through, ttl))
        return Stored(True, len(data), "l4" if blob_ref else "l3")

    def delete(self, namespace: str, key: str) -> bool:
        keys.check_namespace(namespace)
        keys.check_key(key)
        result = db.session.execute(delete(MemoryEntry).where(MemoryEntry.namespace == namespace,
                                                              MemoryEntry.key == key))
        queue(db.session, self, ("k", namespace, key, None, None))
        return bool(result.rowcount)

    def flush(self, namespace: str) -> int:
        keys.check_namespace(namespace)
        result = db.session.execute(delete(MemoryEntry).where(MemoryEntry.namespace == namespace))
        self.drop_namespace(namespace)
        return int(result.rowcount or 0)

    def drop_namespace(self, namespace: str) -> None:
        """Invalidate every cached copy in ``namespace`` once the session commits."""
        queue(db.session, self, ("n", namespace))

    def tick(self) -> None:
        """The listener's once-a-second chores: stats, failed invalidations, L1 usage."""
        if self.retry_ops:
            ops, self.retry_ops = self.retry_ops, []
            apply(self, ops)
        if self.stats.due():
            self.flush_stats()

    def flush_stats(self) -> None:
        """Add this process's counts and L1 usage to the shared figures in Redis now."""
        entries, size = self.l1.usage()
        pipe = self.redis.pipeline(transaction=False)
        pipe.hset(L1_USAGE_KEY, f"{socket.gethostname()}:{self.pid}", f"{entries}:{size}:{time.time():.0f}")
        self.stats.drain_into(pipe)
        pipe.execute()

    # -- the subscription -----------------------------------------------------------------------

    def _start_listener(self) -> None:
        with self._start_lock:
            if self.listener is None:
                self.listener = Listener(self, self.url, self.pid)
                self.listener.start()

    def subscription_ready(self) -> None:
        self.l1.clear()
        self.l1_live = True

    def subscription_lost(self, error: Exception) -> None:
        was_live, self.l1_live = self.l1_live, False
        dropped = self.l1.clear()
        if was_live:
            log.warning("memory: lost the L1 invalidation subscription (%s: %s); flushed %d L1 entries, "
                        "L1 is off until the subscription is back", type(error).__name__, error, dropped)

    def close(self) -> None:
        if self.listener is not None:
            self.listener.stop()
            self.listener.join(timeout=5)
            self.listener = None
        self.l1_live = False


def _upsert(namespace: str, key: str, run_id: int | None, fields: dict[str, Any]):
    if db.engine.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    statement = insert(MemoryEntry).values(namespace=namespace, key=key, run_id=run_id, created_at=fields["updated_at"],
                                           **fields)
    return statement.on_conflict_do_update(index_elements=["namespace", "key"], set_=fields)


def memory() -> MemoryStore:
    """The app's store (one per process; a forked child starts its own share afresh)."""
    extensions = current_app.extensions
    if "flowdeck_memory" not in extensions:
        extensions["flowdeck_memory"] = MemoryStore(current_app.config)
    return extensions["flowdeck_memory"]


@event.listens_for(WorkflowRun, "after_delete")
def _run_deleted(mapper, connection, run: WorkflowRun) -> None:
    """The run's entries go with it (ON DELETE CASCADE); its cached copies go at commit."""
    memory().drop_namespace(f"run:{run.id}")


def _after_fork_in_child() -> None:
    for store in list(_stores):
        store._reset_process()


os.register_at_fork(after_in_child=_after_fork_in_child)
