"""What the /memory page, the API and the CLI ask of the memory store.

Writes made by people (an operator's put or delete, an admin's flush or stats reset) are
audited and published as events in the same transaction as the change; the caller commits.
Reads of an entry go through the tiers like any other read, so looking at an entry counts
as a hit. Per-entry hit counts are statistics: they live in Redis with the others and are
reset with them.
"""
from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from flask import current_app
from redis import RedisError
from sqlalchemy import delete, func, or_, select

from webapp.audit.service import record
from webapp.clock import utcnow
from webapp.events import publish
from webapp.exceptions import NotFound
from webapp.extensions import db
from webapp.formatting import iso
from webapp.memory import keys, stats
from webapp.memory.models import MemoryEntry
from webapp.memory.store import L1_USAGE_KEY, MemoryStore, Stored, check_ttl, memory

L2_SCAN_LIMIT = 10_000
L1_USAGE_FRESH_SECONDS = 10
PREVIEW_CHARS = 2000


def live():
    return or_(MemoryEntry.expires_at.is_(None), MemoryEntry.expires_at > utcnow())


def tier_usage(store: MemoryStore) -> dict[str, dict[str, Any]]:
    """Entries and bytes held by each tier now (L1 summed over the processes that reported
    in the last few seconds; L2 counted up to ``L2_SCAN_LIMIT`` keys)."""
    usage: dict[str, dict[str, Any]] = {}
    entries = size = processes = 0
    now = time.time()
    for field, raw in store.redis.hgetall(L1_USAGE_KEY).items():
        count, used, stamp = (int(part) for part in raw.decode().split(":"))
        if now - stamp > L1_USAGE_FRESH_SECONDS:
            store.redis.hdel(L1_USAGE_KEY, field)
            continue
        entries, size, processes = entries + count, size + used, processes + 1
    usage["l1"] = {"entries": entries, "bytes": size, "processes": processes}
    names = []
    for name in store.redis.scan_iter(match=keys.VALUE_PREFIX + "*", count=1000):
        names.append(name)
        if len(names) >= L2_SCAN_LIMIT:
            break
    pipe = store.redis.pipeline(transaction=False)
    for name in names:
        pipe.strlen(name)
    usage["l2"] = {"entries": len(names), "bytes": sum(pipe.execute()) if names else 0,
                   "capped": len(names) >= L2_SCAN_LIMIT}
    rows = db.session.execute(select(MemoryEntry.blob_ref.is_not(None), func.count(), func.coalesce(
        func.sum(MemoryEntry.size), 0)).where(live()).group_by(MemoryEntry.blob_ref.is_not(None))).all()
    counts = {bool(is_blob): (int(count), int(total)) for is_blob, count, total in rows}
    for tier, is_blob in (("l3", False), ("l4", True)):
        count, total = counts.get(is_blob, (0, 0))
        usage[tier] = {"entries": count, "bytes": total}
    return usage


def stats_json() -> dict[str, Any]:
    store = memory()
    store.flush_stats()  # this process's own counts first, so a page shows what it just did
    figures = stats.read(store.redis)
    for tier, usage in tier_usage(store).items():
        figures[tier].update(usage)
    figures["config"] = {"l1_ttl_seconds": store.l1.ttl, "l1_max_bytes": store.l1.max_bytes,
                         "l1_max_entries": store.l1.max_entries, "blob_threshold_bytes": store.threshold,
                         "max_value_bytes": store.max_value}
    return figures


def history(minutes: int = 60) -> list[dict[str, Any]]:
    return stats.history(memory().redis, minutes)


def reset_stats(actor) -> None:
    stats.reset(memory().redis)
    record("memory.stats_reset", actor=actor, target_type="memory", target_id="stats")
    publish("memory.stats_reset", {"by": getattr(actor, "id", None)})


def namespaces() -> list[dict[str, Any]]:
    rows = db.session.execute(
        select(MemoryEntry.namespace, func.count(), func.coalesce(func.sum(MemoryEntry.size), 0),
               func.count(MemoryEntry.blob_ref))
        .where(live()).group_by(MemoryEntry.namespace).order_by(MemoryEntry.namespace)).all()
    return [{"namespace": ns, "entries": int(count), "bytes": int(size), "l4_entries": int(blobs)}
            for ns, count, size, blobs in rows]


def seconds_left(expires_at: datetime | None) -> int | None:
    return None if expires_at is None else max(0, int((expires_at - utcnow()).total_seconds()))


def preview(entry: MemoryEntry) -> str | None:
    """The value as indented JSON, cut at ``PREVIEW_CHARS``; None for an L4 value (a page
    never loads a blob just to fold it away)."""
    if entry.blob_ref:
        return None
    text = json.dumps(entry.value, ensure_ascii=False, indent=2)
    return text if len(text) <= PREVIEW_CHARS else text[:PREVIEW_CHARS] + "\n…"


def entry_json(entry: MemoryEntry, hits: int | None) -> dict[str, Any]:
    return {"namespace": entry.namespace, "key": entry.key, "bytes": entry.size, "tier": entry.tier,
            "expires_at": iso(entry.expires_at),
            "ttl_left": seconds_left(entry.expires_at), "hits": hits,
            "updated_at": iso(entry.updated_at)}


def entries(namespace: str, *, prefix: str = "", after: str | None = None, limit: int = 50) -> list[MemoryEntry]:
    """Up to ``limit + 1`` live entries of ``namespace`` by key, after the key ``after``."""
    keys.check_namespace(namespace)
    query = select(MemoryEntry).where(MemoryEntry.namespace == namespace, live())
    if prefix:
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        query = query.where(MemoryEntry.key.like(escaped + "%", escape="\\"))
    if after is not None:
        query = query.where(MemoryEntry.key > after)
    return list(db.session.scalars(query.order_by(MemoryEntry.key).limit(limit + 1)))


def hits_of(rows: list[MemoryEntry]) -> dict[tuple[str, str], int | None]:
    """Each entry's hits; None for all of them while Redis (where they are counted) is down."""
    names = [row.namespace + keys.SEPARATOR + row.key for row in rows]
    store = memory()
    try:
        store.flush_stats()
        found: dict[str, int | None] = stats.entry_hits(store.redis, names)
    except RedisError:
        found = dict.fromkeys(names)
    return {(row.namespace, row.key): found[name] for row, name in zip(rows, names, strict=True)}


def find(namespace: str, key: str) -> MemoryEntry:
    keys.check_namespace(namespace)
    keys.check_key(key)
    entry = db.session.scalar(select(MemoryEntry).where(MemoryEntry.namespace == namespace,
                                                        MemoryEntry.key == key, live()))
    if entry is None:
        raise NotFound(f"{namespace} has no entry {key!r}.", details={"namespace": namespace, "key": key})
    return entry


def read(namespace: str, key: str) -> dict[str, Any]:
    """An entry with its value, read through the tiers (``served_from`` says which answered)."""
    hit = memory().get(namespace, key)
    if hit is None:
        raise NotFound(f"{namespace} has no entry {key!r}.", details={"namespace": namespace, "key": key})
    entry = find(namespace, key)
    return {**entry_json(entry, hits_of([entry])[(namespace, key)]), "value": hit.value, "served_from": hit.tier}


def write(namespace: str, key: str, value: Any, ttl: int | None, actor) -> Stored:
    stored = memory().put(namespace, key, value, check_ttl(ttl))
    details = {"namespace": namespace, "key": key, "bytes": stored.bytes, "tier": stored.tier, "ttl": ttl}
    record("memory.put", actor=actor, target_type="memory", target_id=f"{namespace}/{key}", details=details)
    publish("memory.entry_written", details)
    return stored


def remove(namespace: str, key: str, actor) -> None:
    if not memory().delete(namespace, key):
        raise NotFound(f"{namespace} has no entry {key!r}.", details={"namespace": namespace, "key": key})
    details = {"namespace": namespace, "key": key}
    record("memory.delete", actor=actor, target_type="memory", target_id=f"{namespace}/{key}", details=details)
    publish("memory.entry_deleted", details)


def flush(namespace: str, actor) -> int:
    count = memory().flush(namespace)
    details = {"namespace": namespace, "entries": count}
    record("memory.flush", actor=actor, target_type="memory", target_id=namespace, details=details)
    publish("memory.flushed", details)
    return count


def sweep(grace_seconds: float | None = None) -> dict[str, int]:
    """Maintenance: delete expired rows, then blob files no row points to (older than the
    grace period, so a put whose transaction is still open keeps its file). Commits."""
    expired = db.session.execute(delete(MemoryEntry).where(MemoryEntry.expires_at <= utcnow())).rowcount or 0
    db.session.commit()
    referenced = set(db.session.scalars(select(MemoryEntry.blob_ref).where(MemoryEntry.blob_ref.is_not(None))))
    db.session.rollback()
    grace = current_app.config["MEMORY_BLOB_GRACE_SECONDS"] if grace_seconds is None else grace_seconds
    removed, freed = memory().blobs.remove_unreferenced(referenced, grace)
    return {"expired_entries": int(expired), "blobs_removed": removed, "bytes_freed": freed}
