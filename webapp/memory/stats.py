"""Per-tier hit/miss counts and hit latencies, summed over every process in Redis.

Each process counts in memory (an L1 hit must not pay a Redis round trip to be counted) and
adds its counts to Redis in the same pipeline as its next L2 command, or from the invalidation
listener at least once a second. Latencies go into log-spaced buckets (a quarter octave wide,
so a percentile is exact to about 19 %), which add up across processes where per-process
percentiles would not. Per-minute totals are kept for two hours for the charts on /memory.
"""
from __future__ import annotations

import threading
import time
from collections import defaultdict
from math import log2
from typing import Any

from redis import Redis

from webapp.memory.keys import SEPARATOR

TIERS = ("l1", "l2", "l3", "l4")
COUNTS_KEY = "memory:stats:counts"
LATENCY_PREFIX = "memory:stats:latency:"
MINUTE_PREFIX = "memory:stats:minute:"
ENTRY_HITS_KEY = "memory:stats:entry-hits"
MINUTES_KEPT = 120
BUCKETS_PER_OCTAVE = 4
FLUSH_SECONDS = 1.0


def bucket_value(bucket: int) -> float:
    """The bucket's geometric middle, in nanoseconds."""
    return 2 ** ((bucket + 0.5) / BUCKETS_PER_OCTAVE)


class Recorder:
    """A process's counts since its last flush."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self.counts: defaultdict[str, int] = defaultdict(int)
        self.latency: dict[str, defaultdict[int, int]] = {tier: defaultdict(int) for tier in TIERS}
        self.entry_hits: defaultdict[tuple[str, str], int] = defaultdict(int)
        self.last_flush = time.monotonic()

    def hit(self, tier: str, nanoseconds: int, entry: tuple[str, str], *, read: bool = False) -> None:
        """A hit in ``tier``; ``read`` also counts it as a whole read answered (the L1 path,
        which takes the lock once for everything)."""
        bucket = int(log2(nanoseconds or 1) * BUCKETS_PER_OCTAVE)
        with self._lock:
            counts = self.counts
            counts[tier + ":hits"] += 1
            if read:
                counts["reads"] += 1
                counts["read_hits"] += 1
            self.latency[tier][bucket] += 1
            self.entry_hits[entry] += 1

    def miss(self, tier: str) -> None:
        with self._lock:
            self.counts[tier + ":misses"] += 1

    def count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self.counts[name] += amount

    def due(self) -> bool:
        return time.monotonic() - self.last_flush >= FLUSH_SECONDS

    def drain_into(self, pipe) -> None:
        """Queue this process's counts on ``pipe`` and forget them (the caller executes it)."""
        with self._lock:
            counts, latency, entry_hits = self.counts, self.latency, self.entry_hits
            self._reset()
        if not counts:
            return
        minute = MINUTE_PREFIX + str(int(time.time() // 60))
        for name, amount in counts.items():
            pipe.hincrby(COUNTS_KEY, name, amount)
            pipe.hincrby(minute, name, amount)
        pipe.expire(minute, MINUTES_KEPT * 60)
        for tier, buckets in latency.items():
            for bucket, amount in buckets.items():
                pipe.hincrby(LATENCY_PREFIX + tier, str(bucket), amount)
        for (namespace, key), amount in entry_hits.items():
            pipe.hincrby(ENTRY_HITS_KEY, namespace + SEPARATOR + key, amount)

    def forget(self) -> None:
        """After a fork: the parent flushes what it counted, the child starts from zero."""
        self._lock = threading.Lock()
        self._reset()


def percentile(buckets: dict[int, int], fraction: float) -> float | None:
    total = sum(buckets.values())
    if not total:
        return None
    rank, seen = fraction * total, 0
    for bucket in sorted(buckets):
        seen += buckets[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(buckets))


def read(redis: Redis) -> dict[str, dict[str, Any]]:
    """Hits, misses, hit rate and p50/p95 hit latency (microseconds) of each tier."""
    pipe = redis.pipeline(transaction=False)
    pipe.hgetall(COUNTS_KEY)
    for tier in TIERS:
        pipe.hgetall(LATENCY_PREFIX + tier)
    counts_raw, *latencies = pipe.execute()
    counts = {name.decode(): int(value) for name, value in counts_raw.items()}
    result: dict[str, dict[str, Any]] = {}
    for tier, raw in zip(TIERS, latencies, strict=True):
        buckets = {int(bucket): int(amount) for bucket, amount in raw.items()}
        hits, misses = counts.get(f"{tier}:hits", 0), counts.get(f"{tier}:misses", 0)
        p50, p95 = percentile(buckets, 0.5), percentile(buckets, 0.95)
        result[tier] = {
            "hits": hits, "misses": misses,
            "hit_rate": round(hits / (hits + misses), 4) if hits + misses else None,
            "p50_us": None if p50 is None else round(p50 / 1000, 2),
            "p95_us": None if p95 is None else round(p95 / 1000, 2),
        }
    result["overall"] = {name: counts.get(name, 0) for name in ("reads", "read_hits", "lock_waits", "computed")}
    reads = result["overall"]["reads"]
    result["overall"]["hit_rate"] = round(result["overall"]["read_hits"] / reads, 4) if reads else None
    return result


def history(redis: Redis, minutes: int = 60) -> list[dict[str, Any]]:
    """Per-minute hits and misses of each tier, oldest first, for the last ``minutes``."""
    now = int(time.time() // 60)
    pipe = redis.pipeline(transaction=False)
    stamps = list(range(now - minutes + 1, now + 1))
    for stamp in stamps:
        pipe.hgetall(MINUTE_PREFIX + str(stamp))
    rows = []
    for stamp, raw in zip(stamps, pipe.execute(), strict=True):
        counts = {name.decode(): int(value) for name, value in raw.items()}
        rows.append({"minute": stamp * 60, **{f"{tier}_{what}": counts.get(f"{tier}:{what}", 0)
                                              for tier in TIERS for what in ("hits", "misses")}})
    return rows


def entry_hits(redis: Redis, names: list[str]) -> dict[str, int]:
    if not names:
        return {}
    values = redis.hmget(ENTRY_HITS_KEY, names)
    return {name: int(value or 0) for name, value in zip(names, values, strict=True)}


def reset(redis: Redis) -> None:
    keys = [COUNTS_KEY, ENTRY_HITS_KEY, *(LATENCY_PREFIX + tier for tier in TIERS)]
    keys += list(redis.scan_iter(match=MINUTE_PREFIX + "*", count=500))
    redis.delete(*keys)
