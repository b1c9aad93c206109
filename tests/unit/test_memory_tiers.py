"""Pure parts of the memory tiers: the L1 bounds and guards, names, values, latency buckets."""
from __future__ import annotations

import pytest

from webapp.exceptions import InvalidInput, TooLarge
from webapp.memory import keys
from webapp.memory.l1 import ENTRY_OVERHEAD_BYTES, LocalTier
from webapp.memory.stats import Recorder, bucket_value, percentile


def fill(tier: LocalTier, name: str, value, expires_in=None) -> None:
    tier.put_if_epoch(("global", name), value, keys.encode(value, 1 << 20), expires_in, tier.epoch)


def test_l1_keeps_at_most_its_entry_limit_dropping_the_least_recently_used():
    tier = LocalTier(max_bytes=1_000_000, max_entries=3, ttl_seconds=60)
    for name in "abc":
        fill(tier, name, name)
    assert tier.get(("global", "a")) == (True, "a")  # a is now the most recently used
    fill(tier, "d", "d")
    assert tier.get(("global", "b")) == (False, None)
    assert [tier.get(("global", n))[0] for n in "acd"] == [True, True, True]


def test_l1_keeps_within_its_byte_limit_and_refuses_an_entry_over_a_tenth_of_it():
    tier = LocalTier(max_bytes=10 * (ENTRY_OVERHEAD_BYTES + 10), max_entries=1000, ttl_seconds=60)
    fill(tier, "big", "x" * 200)
    assert tier.get(("global", "big")) == (False, None)
    for index in range(20):
        fill(tier, f"k{index}", "12345678")  # 10 bytes of JSON each
    entries, size = tier.usage()
    assert size <= tier.max_bytes and entries == 10


class Clock:
    """Stands in for the ``time`` module inside webapp.memory.l1."""

    def __init__(self) -> None:
        self.now = 1000.0

    def monotonic(self) -> float:
        return self.now


def test_l1_entries_die_at_the_l1_ttl_or_their_own_expiry_whichever_is_first(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("webapp.memory.l1.time", clock)
    tier = LocalTier(max_bytes=1_000_000, max_entries=100, ttl_seconds=30)
    fill(tier, "l1-ttl", 1)
    fill(tier, "own-expiry", 2, expires_in=5)
    fill(tier, "already-expired", 3, expires_in=0)
    assert tier.get(("global", "already-expired")) == (False, None)
    clock.now += 5
    assert tier.get(("global", "own-expiry")) == (False, None)
    assert tier.get(("global", "l1-ttl")) == (True, 1)
    clock.now += 24.9
    assert tier.get(("global", "l1-ttl")) == (True, 1)
    clock.now += 0.1
    assert tier.get(("global", "l1-ttl")) == (False, None)
    assert tier.usage() == (0, 0)


def test_a_read_that_started_before_an_invalidation_does_not_fill_l1():
    tier = LocalTier(max_bytes=1_000_000, max_entries=100, ttl_seconds=60)
    epoch = tier.epoch  # a reader starts, reads the old value from L2/L3...
    tier.invalidate(("global", "k"))  # ...while a write's invalidation arrives
    tier.put_if_epoch(("global", "k"), "old", b'"old"', None, epoch)
    assert tier.get(("global", "k")) == (False, None)


def test_mutable_values_come_back_as_fresh_copies():
    tier = LocalTier(max_bytes=1_000_000, max_entries=100, ttl_seconds=60)
    fill(tier, "list", [1, 2])
    tier.get(("global", "list"))[1].append(3)
    assert tier.get(("global", "list")) == (True, [1, 2])


def test_namespace_invalidation_drops_only_that_namespace():
    tier = LocalTier(max_bytes=1_000_000, max_entries=100, ttl_seconds=60)
    tier.put_if_epoch(("memo", "a"), 1, b"1", None, tier.epoch)
    tier.put_if_epoch(("global", "a"), 2, b"2", None, tier.epoch)
    tier.invalidate_namespace("memo")
    assert tier.get(("memo", "a")) == (False, None) and tier.get(("global", "a")) == (True, 2)


def test_redis_names_cannot_collide_across_namespace_and_key():
    assert keys.value_key("workflow:a", "b:c") != keys.value_key("workflow:a:b", "c")
    assert keys.namespace_pattern("run:1") == "memory:v:5:run:1:*"
    assert not keys.value_key("run:12", "x").startswith(keys.namespace_pattern("run:1")[:-1])


@pytest.mark.parametrize("namespace", ["global", "memo", "workflow:daily-digest", "run:1", "run:2147483647"])
def test_the_four_kinds_of_namespace_are_accepted(namespace):
    assert keys.check_namespace(namespace) == namespace


def test_value_sizes_are_the_compact_utf8_json_and_the_limit_is_413():
    assert keys.encode({"a": "é"}, 100) == '{"a":"é"}'.encode()
    with pytest.raises(TooLarge) as raised:
        keys.encode("x" * 100, 50)
    assert raised.value.details == {"bytes": 102, "limit": 50}
    with pytest.raises(InvalidInput):
        keys.encode({"when": object()}, 100)


def test_percentiles_add_up_across_processes_from_buckets():
    first, second = Recorder(), Recorder()
    for _ in range(90):
        first.hit("l2", 100_000, ("global", "k"))  # 100 µs
    for _ in range(10):
        second.hit("l2", 5_000_000, ("global", "k"))  # 5 ms
    merged: dict[int, int] = {}
    for recorder in (first, second):
        for bucket, count in recorder.latency["l2"].items():
            merged[bucket] = merged.get(bucket, 0) + count
    assert percentile(merged, 0.5) == pytest.approx(100_000, rel=0.2)
    assert percentile(merged, 0.95) == pytest.approx(5_000_000, rel=0.2)
    assert bucket_value(max(merged)) > bucket_value(min(merged))
