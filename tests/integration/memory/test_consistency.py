"""Several processes: invalidation over pub/sub, a dropped subscription, a flushed Redis, and
the stampede lock. Each helper is a separate Python process with its own app, L1 and listener."""
from __future__ import annotations

import time

from tests.integration.memory.conftest import wait_for

INVALIDATION_BUDGET_SECONDS = 0.1


def write(db, store, key, value):
    store.put("global", key, value)
    db.session.commit()
    return time.time()


def cached_in_l1(helper, key, value):
    """Read until the helper serves ``value`` from its L1: a read fills it, but a helper whose
    subscription has just (re)connected flushes its L1 once, so the first fill may be dropped."""
    wait_for(lambda: helper.ask({"op": "get", "ns": "global", "key": key}) == {"value": value, "tier": "l1"},
             what=f"the helper to serve {value!r} from its L1")


def test_a_write_in_one_process_evicts_the_l1_of_another_within_100_ms(db, store, helpers, redis):
    helper = helpers()
    write(db, store, "shared", "v1")
    cached_in_l1(helper, "shared", "v1")

    helper.send({"op": "watch", "ns": "global", "key": "shared", "until": "v2", "started": "test:watching"})
    wait_for(lambda: redis.exists("test:watching"), what="the helper to serve v1 from its L1")
    committed_at = write(db, store, "shared", "v2")
    seen = helper.receive()

    assert seen["tiers_before"] == ["l1"], "until the write, the helper read its own L1"
    lag = seen["seen_at"] - committed_at
    print(f"invalidation lag {lag * 1000:.2f} ms after {seen['reads']} reads")
    assert lag < INVALIDATION_BUDGET_SECONDS


def test_a_dropped_subscription_flushes_l1_so_a_write_missed_meanwhile_is_not_served(db, store, helpers, redis):
    helper = helpers()
    write(db, store, "shared", "v1")
    cached_in_l1(helper, "shared", "v1")

    subscriber = wait_for(lambda: next((client for client in redis.client_list()
                                        if client["name"].startswith("flowdeck-memory-sub-")
                                        and client["name"] != f"flowdeck-memory-sub-{store.pid}"), None),
                          what="the helper's subscriber connection")
    redis.client_kill_filter(_id=subscriber["id"])
    committed_at = write(db, store, "shared", "v2")  # may well be published while nobody listens there

    seen = helper.ask({"op": "watch", "ns": "global", "key": "shared", "until": "v2"})
    assert seen["seen_at"] is not None
    print(f"fresh value {(seen['seen_at'] - committed_at) * 1000:.1f} ms after the write")
    assert seen["seen_at"] - committed_at < store.l1.ttl
    log = helper.stop()
    assert "lost the L1 invalidation subscription" in log


def test_after_redis_is_flushed_writes_still_reach_every_l1(db, store, helpers, redis):
    helper = helpers()
    write(db, store, "shared", "v1")
    cached_in_l1(helper, "shared", "v1")

    redis.flushdb()
    assert helper.ask({"op": "get", "ns": "global", "key": "shared"})["tier"] == "l1"
    helper.send({"op": "watch", "ns": "global", "key": "shared", "until": "v2", "started": "test:watching"})
    wait_for(lambda: redis.exists("test:watching"), what="the helper to serve v1 from its L1")
    committed_at = write(db, store, "shared", "v2")
    seen = helper.receive()
    assert seen["seen_at"] - committed_at < INVALIDATION_BUDGET_SECONDS
    store.l1.clear()
    assert store.get("global", "shared").value == "v2"


def test_fifty_concurrent_misses_in_four_processes_compute_once(db, store, helpers, redis):
    pool = [helpers() for _ in range(4)]
    per_process = [13, 13, 12, 12]
    for helper, threads in zip(pool, per_process, strict=True):
        helper.send({"op": "compute", "ns": "global", "key": "expensive", "threads": threads,
                     "waiting": "test:waiting", "go": "test:go", "counter": "test:computed"})
    wait_for(lambda: int(redis.get("test:waiting") or 0) == 50, what="50 callers ready")
    redis.set("test:go", 1)
    answers = [helper.receive() for helper in pool]

    assert int(redis.get("test:computed")) == 1
    assert sum(answer["computed"] for answer in answers) == 1
    assert all(value == {"computed": True} for answer in answers for value in answer["values"])
    assert sum(len(answer["values"]) for answer in answers) == 50


def test_a_subscription_that_stops_echoing_counts_as_lost(app, db, redis, monkeypatch, caplog):
    """A socket can look alive while nothing arrives (a silent network drop): the listener's own
    pings must come back through the subscription, or L1 goes off and empty."""
    from webapp.memory import invalidation
    from webapp.memory.store import MemoryStore

    monkeypatch.setattr(invalidation, "ECHO_SECONDS", 0.1)
    local = MemoryStore(app.config)
    try:
        local.get("global", "warm-up")
        wait_for(lambda: local.l1_live, what="the subscription")
        local.l1.put_if_epoch(("global", "k"), 1, b"1", None, local.l1.epoch)
        monkeypatch.setattr(local.redis, "publish", lambda *args: 0)  # the echoes stop arriving
        wait_for(lambda: not local.l1_live, timeout=10, what="the lost subscription")
        assert local.l1.get(("global", "k")) == (False, None)
        assert "no echo through the subscription" in caplog.text
        monkeypatch.undo()
        wait_for(lambda: local.l1_live, timeout=10, what="the subscription to come back")
    finally:
        local.close()
