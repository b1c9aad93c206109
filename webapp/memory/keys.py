"""What a namespace, a key and a value may be, and how they are named in Redis.

Namespaces are ``global``, ``memo``, ``workflow:<slug>`` and ``run:<id>``; nothing else, so a
typo cannot scatter values over namespaces nobody lists. Keys are 1 to 512 printable
characters other than ``/`` (the API names a key as one URL path segment; build hierarchies
with ``:``). A value is anything JSON can hold; its size is the byte length of its canonical
JSON (compact, UTF-8), and it must fit ``MEMORY_MAX_VALUE_BYTES``. Bad names and unencodable
values are ``InvalidInput`` (422); a value over the limit is ``TooLarge`` (413).
"""
from __future__ import annotations

import json
import re
from typing import Any

from webapp.exceptions import InvalidInput, TooLarge
from webapp.memory.models import MAX_KEY_CHARS, MAX_NAMESPACE_CHARS

FIXED_NAMESPACES = ("global", "memo")
NAMESPACE = re.compile(r"^(?:global|memo|workflow:[a-z0-9][a-z0-9-]{0,99}|run:[1-9][0-9]{0,9})$")
NAMESPACE_RULE = "must be global, memo, workflow:<slug> or run:<id>"
# No control characters (NUL breaks PostgreSQL text, the others break logs) and no "/" (the API
# names a key as one path segment); everything else, spaces and ':' included, is a fine key.
BAD_KEY_CHARS = re.compile(r"[\x00-\x1f\x7f/]")
MAX_RUN_ID = 2**31 - 1

VALUE_PREFIX = "memory:v:"
GEN_PREFIX = "memory:g:"
LOCK_PREFIX = "memory:lock:"
CHANNEL = "memory:invalidate"
SEPARATOR = "\x1f"  # never inside a namespace or a key, so messages split unambiguously


def check_namespace(namespace: Any, field: str = "namespace") -> str:
    if not isinstance(namespace, str) or len(namespace) > MAX_NAMESPACE_CHARS or not NAMESPACE.match(namespace):
        raise InvalidInput(f"The namespace {NAMESPACE_RULE}.", details={"fields": {field: NAMESPACE_RULE}})
    if namespace.startswith("run:") and int(namespace[4:]) > MAX_RUN_ID:
        raise InvalidInput("The namespace names a run id beyond the id range.",
                           details={"fields": {field: "run id out of range"}})
    return namespace


def check_key(key: Any, field: str = "key") -> str:
    if not isinstance(key, str) or not key:
        raise InvalidInput("The key must be a non-empty string.", details={"fields": {field: "must not be empty"}})
    if len(key) > MAX_KEY_CHARS:
        message = f"must be at most {MAX_KEY_CHARS} characters (got {len(key)})"
        raise InvalidInput(f"The key {message}.", details={"fields": {field: message}})
    if BAD_KEY_CHARS.search(key):
        message = "must not contain control characters or '/'"
        raise InvalidInput(f"The key {message}.", details={"fields": {field: message}})
    return key


def run_id_of(namespace: str) -> int | None:
    return int(namespace[4:]) if namespace.startswith("run:") else None


def encode(value: Any, limit: int) -> bytes:
    """Canonical JSON bytes of ``value``; NaN, infinities and non-JSON types are refused."""
    try:
        data = json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        raise InvalidInput(f"The value cannot be stored as JSON ({error}).",
                           details={"fields": {"value": "must be JSON (no NaN or Infinity)"}}) from None
    except RecursionError:
        raise InvalidInput("The value is nested too deeply.", details={"fields": {"value": "nested too deeply"}}) \
            from None
    if "\\u0000" in data.decode() and _has_nul(value):
        raise InvalidInput("The value must not contain NUL characters.",
                           details={"fields": {"value": "must not contain NUL characters"}})
    if len(data) > limit:
        raise TooLarge(f"The value is {len(data):,} bytes; the limit is {limit:,} (MEMORY_MAX_VALUE_BYTES).",
                       details={"bytes": len(data), "limit": limit})
    return data


def _has_nul(value: Any) -> bool:
    """PostgreSQL's json type refuses ``\\u0000`` in text; find it before the database does."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            return True
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def decode(data: bytes) -> Any:
    return json.loads(data)


def _name(namespace: str, key: str) -> str:
    # The namespace's length first: "a:b" + "c" and "a" + "b:c" can never collide.
    return f"{len(namespace)}:{namespace}:{key}"


def value_key(namespace: str, key: str) -> str:
    return VALUE_PREFIX + _name(namespace, key)


def gen_key(namespace: str, key: str) -> str:
    return GEN_PREFIX + _name(namespace, key)


def namespace_gen_key(namespace: str) -> str:
    return f"{GEN_PREFIX}ns:{namespace}"


def lock_key(namespace: str, key: str) -> str:
    return LOCK_PREFIX + _name(namespace, key)


def namespace_pattern(namespace: str) -> str:
    """A SCAN pattern for the namespace's L2 values (namespaces hold no glob characters)."""
    return f"{VALUE_PREFIX}{len(namespace)}:{namespace}:*"
