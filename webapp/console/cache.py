"""The Overview's aggregates, computed at most once per ``OVERVIEW_CACHE_SECONDS`` for everyone.

Every viewer's Overview polls every few seconds, and its counts (runs in progress, failures,
the last 24 h by status, today's spend, the chart) grow with the number of runs. Sharing one
result in Redis for two seconds keeps the page's cost flat however many runs and viewers there
are, at the price of figures up to that old, less than one poll interval. ``0`` computes on
every request (the tests do). Redis being down only means no sharing: the figures are computed.
The short lists (needs attention) are always read fresh: they are a few indexed rows.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal

from flask import current_app
from redis import RedisError

from webapp.console.overview import Bucket
from webapp.queues import redis_connection
from webapp.runs.pages import OverviewNumbers

KEY = "flowdeck:overview:{window}"


def encode(numbers: OverviewNumbers, buckets: list[Bucket]) -> str:
    return json.dumps({"numbers": {"last_day": numbers.last_day, "in_progress": numbers.in_progress,
                                   "needs_attention": numbers.needs_attention,
                                   "spend_today": str(numbers.spend_today)},
                       "buckets": [[bucket.start.isoformat(), bucket.end.isoformat(), bucket.counts]
                                   for bucket in buckets]})


def decode(raw: bytes) -> tuple[OverviewNumbers, list[Bucket]]:
    data = json.loads(raw)
    numbers = data["numbers"]
    return (OverviewNumbers(numbers["last_day"], numbers["in_progress"], numbers["needs_attention"],
                            Decimal(numbers["spend_today"])),
            [Bucket(datetime.fromisoformat(start), datetime.fromisoformat(end), counts)
             for start, end, counts in data["buckets"]])


def overview_aggregates(window: str, compute: Callable[[], tuple[OverviewNumbers, list[Bucket]]]
                        ) -> tuple[OverviewNumbers, list[Bucket]]:
    seconds = current_app.config["OVERVIEW_CACHE_SECONDS"]
    if seconds <= 0:
        return compute()
    key = KEY.format(window=window)
    try:
        connection = redis_connection()
        raw = connection.get(key)
    except RedisError:
        return compute()
    if raw is not None:
        return decode(raw)
    value = compute()
    try:
        connection.set(key, encode(*value), px=max(int(seconds * 1000), 1))
    except RedisError:
        pass
    return value
