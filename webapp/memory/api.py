"""/api/v3/memory: statistics, namespaces and entries. Viewers read, operators write, admins
flush namespaces and reset the statistics."""
from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify
from flask_login import current_user
from pydantic import Field
from redis import RedisError

from webapp.api.errors import error_response
from webapp.api.inputs import Body, Query, parse_body, parse_query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page, text
from webapp.extensions import db
from webapp.memory import service
from webapp.memory.models import MAX_KEY_CHARS
from webapp.memory.store import MAX_TTL_SECONDS
from webapp.security import require_role

bp = Blueprint("memory_api", __name__)


@bp.errorhandler(RedisError)
def redis_unavailable(error: RedisError):
    """Statistics live in Redis: while it is unreachable they cannot be read (entries still can)."""
    return error_response(503, "dependency_unavailable", "Redis is unreachable, so memory statistics cannot be read.",
                          {"dependency": "redis"})


class HistoryQuery(Query):
    minutes: int = Field(default=60, ge=1, le=120)


class EntriesQuery(Query):
    prefix: str = Field(default="", max_length=MAX_KEY_CHARS)
    cursor: str | None = Field(default=None, max_length=2000)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)


class PutBody(Body):
    value: Any
    ttl: int | None = Field(default=None, ge=1, le=MAX_TTL_SECONDS)


@bp.get("/memory/stats")
@require_role("viewer")
def stats():
    """Hits, misses, hit rate, hit latency p50/p95, entries and bytes of each tier."""
    query = parse_query(HistoryQuery)
    return jsonify({"tiers": service.stats_json(), "history": service.history(query.minutes)})


@bp.post("/memory/stats/reset")
@require_role("admin")
def reset_stats():
    """Start every tier's statistics from zero (audited)."""
    service.reset_stats(current_user)
    db.session.commit()
    return jsonify({"reset": True})


@bp.get("/memory/namespaces")
@require_role("viewer")
def namespaces():
    """Every namespace holding live entries, with entry counts and bytes."""
    return jsonify({"items": service.namespaces()})


@bp.get("/memory/<namespace>/entries")
@require_role("viewer")
def entries(namespace: str):
    """A namespace's entries by key (cursor, prefix filter); values are read one at a time."""
    query = parse_query(EntriesQuery)
    after = decode_cursor(query.cursor, [text])[0] if query.cursor else None
    rows = service.entries(namespace, prefix=query.prefix, after=after, limit=query.limit)
    hits = service.hits_of(rows)
    return jsonify(page(rows, query.limit, key=lambda row: [row.key],
                        render=lambda row: service.entry_json(row, hits[(row.namespace, row.key)])))


@bp.get("/memory/<namespace>/entries/<key>")
@require_role("viewer")
def get_entry(namespace: str, key: str):
    """One entry and its value, read through the tiers."""
    return jsonify(service.read(namespace, key))


@bp.put("/memory/<namespace>/entries/<key>")
@require_role("operator")
def put_entry(namespace: str, key: str):
    """Store a value (any JSON) with an optional ttl in seconds (audited)."""
    body = parse_body(PutBody)
    stored = service.write(namespace, key, body.value, body.ttl, current_user)
    db.session.commit()
    return jsonify({"namespace": namespace, "key": key, "stored": stored.stored, "bytes": stored.bytes,
                    "tier": stored.tier})


@bp.delete("/memory/<namespace>/entries/<key>")
@require_role("operator")
def delete_entry(namespace: str, key: str):
    """Delete one entry from every tier (audited)."""
    service.remove(namespace, key, current_user)
    db.session.commit()
    return "", 204


@bp.post("/memory/<namespace>/flush")
@require_role("admin")
def flush(namespace: str):
    """Delete every entry of a namespace from every tier (audited)."""
    count = service.flush(namespace, current_user)
    db.session.commit()
    return jsonify({"namespace": namespace, "deleted": count})
