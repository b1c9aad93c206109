"""/api/v3/memory: roles, entries through the tiers, limits as 413/422, audited admin actions."""
from __future__ import annotations

from urllib.parse import quote

import pytest


def audit_events(db, event):
    return db.session.execute(db.text("SELECT target_id, details FROM audit_events WHERE event = :e"),
                              {"e": event}).all()


def test_an_operator_puts_reads_lists_and_deletes_an_entry(client, db, store, api_headers):
    headers, _ = api_headers("operator")
    put = client.put("/api/v3/memory/workflow:digest/entries/topic a:b", json={"value": {"n": 1}, "ttl": 60},
                     headers=headers)
    assert put.status_code == 200, put.json
    assert put.json == {"namespace": "workflow:digest", "key": "topic a:b", "stored": True, "bytes": 7,
                        "tier": "l3"}
    assert audit_events(db, "memory.put")[0].target_id == "workflow:digest/topic a:b"

    got = client.get("/api/v3/memory/workflow:digest/entries/" + quote("topic a:b"), headers=headers)
    assert got.status_code == 200
    assert got.json["value"] == {"n": 1} and got.json["served_from"] in ("l1", "l2", "l3")
    assert 0 < got.json["ttl_left"] <= 60

    listed = client.get("/api/v3/memory/workflow:digest/entries?prefix=topic", headers=headers).json
    assert [item["key"] for item in listed["items"]] == ["topic a:b"]
    assert listed["items"][0]["hits"] >= 1
    assert client.get("/api/v3/memory/namespaces", headers=headers).json["items"] == [
        {"namespace": "workflow:digest", "entries": 1, "bytes": 7, "l4_entries": 0}]

    assert client.delete("/api/v3/memory/workflow:digest/entries/topic a:b", headers=headers).status_code == 204
    assert client.get("/api/v3/memory/workflow:digest/entries/topic a:b", headers=headers).status_code == 404
    assert client.delete("/api/v3/memory/workflow:digest/entries/topic a:b", headers=headers).status_code == 404


def test_entries_page_with_a_cursor_and_prefix_wildcards_are_literal(client, db, store, api_headers):
    headers, _ = api_headers("operator")
    for key in ("a1", "a2", "a3", "a%", "b1"):
        assert client.put(f"/api/v3/memory/global/entries/{quote(key)}", json={"value": key},
                          headers=headers).status_code == 200
    first = client.get("/api/v3/memory/global/entries?limit=2&prefix=a", headers=headers).json
    assert [item["key"] for item in first["items"]] == ["a%", "a1"]
    second = client.get(f"/api/v3/memory/global/entries?limit=2&prefix=a&cursor={first['next_cursor']}",
                        headers=headers).json
    assert [item["key"] for item in second["items"]] == ["a2", "a3"] and second["next_cursor"] is None
    literal = client.get("/api/v3/memory/global/entries?prefix=" + quote("a%"), headers=headers).json
    assert [item["key"] for item in literal["items"]] == ["a%"]
    assert client.get("/api/v3/memory/global/entries?cursor=garbage", headers=headers).status_code == 400


@pytest.mark.parametrize(("path", "body", "status"), [
    ("/api/v3/memory/nowhere/entries/k", {"value": 1}, 422),
    ("/api/v3/memory/global/entries/" + "k" * 513, {"value": 1}, 422),
    ("/api/v3/memory/global/entries/k", {"value": 1, "ttl": 0}, 422),
    ("/api/v3/memory/global/entries/k", {"ttl": 5}, 422),
    ("/api/v3/memory/global/entries/k", {"value": float("inf")}, 422),
    ("/api/v3/memory/run:42/entries/k", {"value": 1}, 404),
])
def test_bad_writes_are_clear_client_errors(client, store, api_headers, path, body, status):
    headers, _ = api_headers("operator")
    response = client.put(path, json=body, headers=headers)
    assert response.status_code == status, response.json
    assert response.json["error"]["message"]


def test_a_value_over_the_limit_is_413(app, client, store, api_headers, monkeypatch):
    headers, _ = api_headers("operator")
    monkeypatch.setattr(store, "max_value", 2000)
    response = client.put("/api/v3/memory/global/entries/big", json={"value": "x" * 3000}, headers=headers)
    assert response.status_code == 413
    assert "limit is 2,000" in response.json["error"]["message"]


def test_viewers_read_operators_write_admins_flush(client, store, api_headers):
    viewer, _ = api_headers("viewer")
    operator, _ = api_headers("operator")
    assert client.get("/api/v3/memory/stats", headers=viewer).status_code == 200
    assert client.put("/api/v3/memory/global/entries/k", json={"value": 1}, headers=viewer).status_code == 403
    assert client.put("/api/v3/memory/global/entries/k", json={"value": 1}, headers=operator).status_code == 200
    assert client.post("/api/v3/memory/global/flush", headers=operator).status_code == 403
    assert client.post("/api/v3/memory/stats/reset", headers=operator).status_code == 403


def test_an_admin_flush_empties_every_tier_and_is_audited(client, db, store, api_headers, redis):
    from webapp.memory import keys

    admin, _ = api_headers("admin")
    for key in ("one", "two"):
        client.put(f"/api/v3/memory/global/entries/{key}", json={"value": key}, headers=admin)
        assert client.get(f"/api/v3/memory/global/entries/{key}", headers=admin).status_code == 200
    client.put("/api/v3/memory/memo/entries/other", json={"value": 1}, headers=admin)
    assert redis.exists(keys.value_key("global", "one"))

    flushed = client.post("/api/v3/memory/global/flush", headers=admin)
    assert flushed.json == {"namespace": "global", "deleted": 2}
    assert not redis.exists(keys.value_key("global", "one"))
    assert store.get("global", "one") is None
    assert store.get("memo", "other").value == 1
    assert audit_events(db, "memory.flush")[0].details == {"namespace": "global", "entries": 2}
    events = db.session.execute(db.text("SELECT type FROM events WHERE type LIKE 'memory.%'")).scalars().all()
    assert "memory.flushed" in events


def test_stats_count_each_tier_and_an_admin_resets_them(client, db, store, api_headers):
    admin, _ = api_headers("admin")
    client.put("/api/v3/memory/global/entries/k", json={"value": "v"}, headers=admin)
    before = client.get("/api/v3/memory/stats", headers=admin).json["tiers"]
    store.get("global", "k")  # L1 miss, L2 miss, L3 hit
    store.get("global", "k")  # L1 hit
    store.get("global", "absent")  # misses all the way down
    after = client.get("/api/v3/memory/stats", headers=admin).json["tiers"]

    def delta(tier, what):
        return after[tier][what] - before[tier][what]

    assert (delta("l1", "hits"), delta("l1", "misses")) == (1, 2)
    assert (delta("l2", "hits"), delta("l2", "misses")) == (0, 2)
    assert (delta("l3", "hits"), delta("l3", "misses")) == (1, 1)
    assert (delta("overall", "reads"), delta("overall", "read_hits")) == (3, 2)
    assert after["l1"]["p50_us"] > 0 and after["l3"]["entries"] == 1 and after["l1"]["processes"] >= 1

    assert client.post("/api/v3/memory/stats/reset", headers=admin).status_code == 200
    tiers = client.get("/api/v3/memory/stats", headers=admin).json["tiers"]
    assert tiers["l1"]["hits"] == 0 and tiers["overall"]["reads"] == 0
    assert len(audit_events(db, "memory.stats_reset")) == 1
