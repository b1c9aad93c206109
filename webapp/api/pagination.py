"""Keyset pagination for every list endpoint: ``{"items": [...], "next_cursor": "..."}``.

The cursor is an opaque, URL-safe encoding of the last row's sort key (for example
``[created_at, id]``), so a deep page costs the same index seek as the first one, unlike
OFFSET. A cursor that does not decode is a 400, not a 500.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from typing import Any

from webapp.api.errors import ApiError

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, length: int) -> list[Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or len(key) != length:
        raise ApiError("The cursor is not valid; start again from the first page.", code="invalid_cursor", status=400)
    return key


def page(rows: Sequence[Any], limit: int, key: Callable[[Any], Sequence[Any]],
         render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Build a page from ``limit + 1`` fetched rows: the extra row only says a next page exists."""
    items = list(rows[:limit])
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return {"items": [render(row) for row in items], "next_cursor": next_cursor}
