"""Keyset pagination for every list endpoint: ``{"items": [...], "next_cursor": "..."}``.

The cursor is an opaque, URL-safe encoding of the last row's sort key (for example
``[created_at, id]``), so a deep page costs the same index seek as the first one, unlike
OFFSET. A cursor is decoded against the types of its key parts (``row_id``, ``timestamp``,
``text``), so one that we could not have issued (garbage, a naive time, an id past the
column's range) is a 400 here, never a 500 from the database.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from webapp.api.errors import ApiError
from webapp.api.inputs import MAX_DB_ID

MAX_BIGINT_ID = 2**63 - 1

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(key: Sequence[Any]) -> str:
    raw = json.dumps(list(key), default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def row_id(value: Any, maximum: int = MAX_DB_ID) -> int:
    if type(value) is not int or not 0 < value <= maximum:
        raise ValueError("not a row id")
    return value


def bigint_row_id(value: Any) -> int:
    return row_id(value, MAX_BIGINT_ID)


def timestamp(value: Any) -> datetime:
    moment = datetime.fromisoformat(value) if isinstance(value, str) else None
    if moment is None or moment.tzinfo is None:
        raise ValueError("not an aware ISO 8601 time")
    return moment


def text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("not text")
    return value


def decode_cursor(cursor: str, parts: Sequence[Callable[[Any], Any]]) -> tuple[Any, ...]:
    """The typed sort key inside ``cursor``, one parser per part; anything else is a 400."""
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(key, list) or len(key) != len(parts):
            raise ValueError("wrong shape")
        return tuple(parse(value) for parse, value in zip(parts, key, strict=True))
    except (ValueError, TypeError, UnicodeDecodeError):
        raise ApiError("The cursor is not valid; start again from the first page.",
                       code="invalid_cursor", status=400) from None


def page(rows: Sequence[Any], limit: int, key: Callable[[Any], Sequence[Any]],
         render: Callable[[Any], dict[str, Any]]) -> dict[str, Any]:
    """Build a page from ``limit + 1`` fetched rows: the extra row only says a next page exists."""
    items = list(rows[:limit])
    next_cursor = encode_cursor(key(items[-1])) if len(rows) > limit and items else None
    return {"items": [render(row) for row in items], "next_cursor": next_cursor}
