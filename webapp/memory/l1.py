"""L1: a per-process TTL + LRU cache (cachetools), bounded in bytes and in entries.

cachetools' ``LRUCache`` keeps the order and the byte bound; each entry carries its own
deadline, checked on every read (``TLRUCache`` does the same with a heap, and costs about
three times as much per hit, which matters when a hit is a few microseconds).

Each entry lives at most ``MEMORY_L1_TTL_SECONDS`` and never past its own expiry, whatever
invalidations arrive or fail to arrive: that TTL is the hard bound on a stale L1 read. The
``epoch`` grows with every invalidation; a read that started before one does not fill L1
(``put_if_epoch``), so a value read from L2/L3 just before a write commits cannot be cached
after the write's invalidation has already gone by.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Hashable
from typing import Any

from cachetools import Cache, LRUCache

from webapp.memory.keys import decode

IMMUTABLE = (str, int, float, bool, type(None))
ENTRY_OVERHEAD_BYTES = 100


class LocalTier:
    def __init__(self, max_bytes: int, max_entries: int, ttl_seconds: float) -> None:
        self.max_bytes = max_bytes
        self.max_entries = max_entries
        self.ttl = ttl_seconds
        self.epoch = 0
        self.enabled = max_bytes > 0 and max_entries > 0
        self.forget()

    def forget(self) -> None:
        """Empty, with a new lock (after a fork the old one may be held by a thread that is gone)."""
        self._lock = threading.Lock()
        self._cache = self._new_cache()
        self.epoch += 1

    def _new_cache(self) -> LRUCache:
        # Values are (stored, size, deadline); size counts against max_bytes.
        return LRUCache(maxsize=max(self.max_bytes, 1), getsizeof=lambda value: value[1])

    def get(self, key: Hashable) -> tuple[bool, Any]:
        """(hit, value). Mutable values are kept as JSON bytes and decoded per read, so a
        caller that changes what it got cannot change the cache."""
        with self._lock:
            item = self._cache.get(key)
            if item is None:
                return False, None
            if item[2] <= time.monotonic():
                del self._cache[key]
                return False, None
        stored = item[0]
        return True, decode(stored) if isinstance(stored, bytes) else stored

    def put_if_epoch(self, key: Hashable, value: Any, data: bytes, expires_in: float | None, epoch: int) -> None:
        """Cache ``value`` unless an invalidation happened since ``epoch`` was read."""
        size = len(data) + ENTRY_OVERHEAD_BYTES
        if not self.enabled or size > self.max_bytes // 10 or (expires_in is not None and expires_in <= 0):
            return  # one entry may take a tenth of L1 at most, so a big value cannot wipe it
        lifetime = self.ttl if expires_in is None else min(self.ttl, expires_in)
        stored = value if isinstance(value, IMMUTABLE) else data
        with self._lock:
            if epoch != self.epoch:
                return
            self._cache[key] = (stored, size, time.monotonic() + lifetime)
            while len(self._cache) > self.max_entries:
                self._cache.popitem()

    def invalidate(self, key: Hashable) -> None:
        with self._lock:
            self.epoch += 1
            self._cache.pop(key, None)

    def invalidate_namespace(self, namespace: str) -> None:
        with self._lock:
            self.epoch += 1
            for key in [key for key in self._cache.keys() if key[0] == namespace]:
                self._cache.pop(key, None)

    def clear(self) -> int:
        with self._lock:
            self.epoch += 1
            count = len(self._cache)
            self._cache = self._new_cache()
            return count

    def usage(self) -> tuple[int, int]:
        """(entries, bytes) now, expired entries dropped first."""
        with self._lock:
            now = time.monotonic()
            # Cache.__getitem__ reads without LRUCache's reordering: a usage scan is not a use.
            for key in [key for key in self._cache if Cache.__getitem__(self._cache, key)[2] <= now]:
                del self._cache[key]
            return len(self._cache), int(self._cache.currsize)
