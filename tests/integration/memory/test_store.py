"""The tiers against real PostgreSQL and Redis: read-through, fill-up, expiry, L4, limits."""
from __future__ import annotations

import time

import pytest

from webapp.exceptions import InvalidInput, NotFound, TooLarge
from webapp.memory import keys


def put(db, store, namespace, key, value, ttl=None):
    stored = store.put(namespace, key, value, ttl)
    db.session.commit()
    return stored


def test_a_read_goes_down_to_l3_once_and_then_is_served_by_l2_and_l1(db, store, redis):
    put(db, store, "global", "greeting", {"text": "hello"})

    first = store.get("global", "greeting")
    assert (first.value, first.tier) == ({"text": "hello"}, "l3")
    assert redis.get(keys.value_key("global", "greeting")) == b'{"text":"hello"}'
    assert store.get("global", "greeting").tier == "l1"

    store.l1.clear()
    second = store.get("global", "greeting")
    assert (second.value, second.tier) == ({"text": "hello"}, "l2")
    assert store.get("global", "greeting").tier == "l1"


def test_a_caller_that_changes_what_it_read_does_not_change_the_cache(db, store):
    put(db, store, "global", "list", [1, 2])
    store.get("global", "list")
    store.get("global", "list").value.append(3)
    assert store.get("global", "list").value == [1, 2]


def test_a_write_deletes_the_l2_copy_and_the_l1_copy_after_commit(db, store, redis):
    put(db, store, "global", "k", 1)
    store.get("global", "k")
    assert store.get("global", "k").tier == "l1"

    store.put("global", "k", 2)
    assert store.get("global", "k").value == 1, "uncommitted writes are invisible"
    db.session.commit()
    assert redis.get(keys.value_key("global", "k")) is None
    hit = store.get("global", "k")
    assert (hit.value, hit.tier) == (2, "l3")


def test_a_rolled_back_write_leaves_every_tier_as_it_was(db, store, redis):
    put(db, store, "global", "k", "old")
    store.get("global", "k")
    store.put("global", "k", "new")
    db.session.rollback()
    assert store.get("global", "k").value == "old"
    assert redis.get(keys.value_key("global", "k")) == b'"old"'


def test_an_expired_entry_is_returned_by_no_tier(db, store, redis):
    put(db, store, "global", "short", "soon gone", ttl=1)
    assert store.get("global", "short").tier == "l3"
    assert store.get("global", "short").tier == "l1"
    assert 0 < redis.pttl(keys.value_key("global", "short")) <= 1000
    time.sleep(1.05)  # the entry's own one-second TTL has to pass; nothing is asserted about speed
    assert store.get("global", "short") is None
    store.l1.clear()
    assert store.get("global", "short") is None


def test_a_value_over_the_threshold_goes_to_l4_and_comes_back_byte_exact(app, db, store, redis):
    value = {"blob": "é€𝄞" * 30_000, "n": [1.5, None, True]}
    stored = put(db, store, "workflow:digest", "big", value)
    assert stored.tier == "l4" and stored.bytes > app.config["MEMORY_BLOB_THRESHOLD_BYTES"]
    row = db.session.execute(db.text("SELECT value, blob_ref FROM memory_entries WHERE key = 'big'")).one()
    assert row.value is None
    data = store.blobs.path(row.blob_ref).read_bytes()
    assert data == keys.encode(value, 1 << 30)

    redis.delete(keys.value_key("workflow:digest", "big"))
    store.l1.clear()
    hit = store.get("workflow:digest", "big")
    assert (hit.value, hit.tier) == (value, "l4")


def test_orphaned_blobs_are_removed_and_referenced_ones_kept(db, store):
    from webapp.memory.service import sweep

    put(db, store, "global", "kept", "k" * 70_000)
    put(db, store, "global", "dropped", "d" * 70_000)
    kept_ref = db.session.execute(db.text("SELECT blob_ref FROM memory_entries WHERE key = 'kept'")).scalar()
    dropped_ref = db.session.execute(db.text("SELECT blob_ref FROM memory_entries WHERE key = 'dropped'")).scalar()
    assert store.delete("global", "dropped")
    db.session.commit()

    assert sweep(grace_seconds=3600)["blobs_removed"] == 0, "a young orphan may belong to a put still in flight"
    result = sweep(grace_seconds=0)
    assert result["blobs_removed"] == 1 and result["bytes_freed"] > 70_000
    assert store.blobs.path(kept_ref).exists()
    assert not store.blobs.path(dropped_ref).exists()


def test_sweep_deletes_expired_rows(db, store):
    from datetime import timedelta

    from webapp.clock import frozen_at, utcnow
    from webapp.memory.service import sweep

    put(db, store, "global", "old", 1, ttl=5)
    put(db, store, "global", "forever", 2)
    with frozen_at(utcnow() + timedelta(seconds=10)):
        assert sweep()["expired_entries"] == 1
    keys_left = db.session.execute(db.text("SELECT key FROM memory_entries")).scalars().all()
    assert keys_left == ["forever"]


def test_the_periodic_reconcile_sweeps_memory_once_an_hour(db, store):
    from datetime import timedelta

    from jobs.steps import reconcile
    from webapp.clock import frozen_at, utcnow

    put(db, store, "global", "old", 1, ttl=5)
    with frozen_at(utcnow() + timedelta(seconds=10)):
        first, second = reconcile(), reconcile()
    assert first["memory_expired_entries"] == 1
    assert "memory_expired_entries" not in second  # swept already this hour
    assert db.session.execute(db.text("SELECT count(*) FROM memory_entries")).scalar() == 0


def test_run_namespace_entries_go_with_the_run(db, store, make_workflow):
    from webapp.runs.engine import trigger

    workflow = make_workflow({"name": "mem-run", "steps": [{"id": "a", "uses": "control.sleep",
                                                            "with": {"seconds": 0}}]})
    run, _ = trigger(workflow, {}, actor_id=None)
    db.session.commit()
    put(db, store, f"run:{run.id}", "scratch", {"x": 1})
    assert store.get(f"run:{run.id}", "scratch").tier == "l3"
    assert store.get(f"run:{run.id}", "scratch").tier == "l1"
    with pytest.raises(NotFound):
        store.put("run:999999", "scratch", 1)
    db.session.rollback()

    db.session.delete(run)
    db.session.commit()
    count = db.session.execute(db.text("SELECT count(*) FROM memory_entries")).scalar()
    assert count == 0
    assert store.get(f"run:{run.id}", "scratch") is None


@pytest.mark.parametrize("namespace", ["", "other", "workflow:", "workflow:Bad Slug", "run:0", "run:x",
                                       "run:99999999999", "global\x00"])
def test_unknown_namespaces_are_refused(store, namespace):
    with pytest.raises(InvalidInput):
        store.get(namespace, "k")


@pytest.mark.parametrize("key", ["", "a\x00b", "line\nbreak", "a/b", "k" * 513])
def test_bad_keys_are_refused(store, key):
    with pytest.raises(InvalidInput):
        store.get("global", key)


def test_values_over_the_limit_are_too_large_and_unencodable_ones_invalid(app, store):
    with pytest.raises(TooLarge):
        store.put("global", "huge", "x" * app.config["MEMORY_MAX_VALUE_BYTES"])
    with pytest.raises(InvalidInput):
        store.put("global", "nan", float("nan"))
    with pytest.raises(InvalidInput):
        store.put("global", "nul", {"a": "\x00"})
    with pytest.raises(InvalidInput):
        store.put("global", "ttl", 1, ttl=0)


def test_a_fill_that_read_l3_before_a_write_committed_cannot_put_the_old_value_into_l2(db, store, redis):
    put(db, store, "global", "raced", "old")
    _, _, key_gen, ns_gen = store._read_l2("global", "raced")  # a reader misses L2, then reads L3...
    put(db, store, "global", "raced", "new")  # ...while a write commits
    store._fill_l2("global", "raced", b'"old"', None, key_gen, ns_gen)  # ...and the reader fills late
    assert redis.get(keys.value_key("global", "raced")) is None
    store.l1.clear()
    assert store.get("global", "raced").value == "new"
    assert redis.get(keys.value_key("global", "raced")) == b'"new"'


def test_a_namespace_flush_also_refuses_late_fills_of_that_namespace(db, store, redis):
    put(db, store, "workflow:w", "k", 1)
    _, _, key_gen, ns_gen = store._read_l2("workflow:w", "k")
    store.flush("workflow:w")
    db.session.commit()
    store._fill_l2("workflow:w", "k", b"1", None, key_gen, ns_gen)
    assert redis.get(keys.value_key("workflow:w", "k")) is None
    assert store.get("workflow:w", "k") is None


def test_without_redis_values_are_still_written_and_read_through_l3(app, db, caplog):
    import socket

    from webapp.memory.store import MemoryStore

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    offline = MemoryStore({**app.config, "REDIS_URL": f"redis://127.0.0.1:{port}/0"})
    try:
        offline.put("global", "k", {"v": 1})
        db.session.commit()  # the invalidation cannot reach Redis: logged and kept for a retry
        hit = offline.get("global", "k")
        assert (hit.value, hit.tier) == ({"v": 1}, "l3")
        assert offline.get("global", "k").tier == "l3", "no L1 without a live subscription"
        assert offline.retry_ops and not offline.l1_live
        assert "Redis refused 1 invalidation(s)" in caplog.text
    finally:
        offline.close()


def test_the_api_says_503_for_statistics_while_redis_is_down(client, db, store, api_headers, monkeypatch):
    from redis import RedisError

    headers, _ = api_headers("viewer")

    def down(*args, **kwargs):
        raise RedisError("connection refused")

    monkeypatch.setattr(store, "flush_stats", down)
    response = client.get("/api/v3/memory/stats", headers=headers)
    assert response.status_code == 503 and response.json["error"]["code"] == "dependency_unavailable"
    assert client.get("/api/v3/memory/global/entries", headers=headers).status_code == 200
