"""Per-IP rate limits on the credential endpoints (docs/security.md §11).

A fixed one-minute window per (action, client IP) counted in Redis, shared by every web
process. Limits come from ``RATE_LIMIT_<ACTION>`` (requests per minute). If Redis is down the
request is allowed and a warning logged: the account lockout still protects passwords, and a
cache outage must not lock everyone out of the console.
"""
from __future__ import annotations

import logging

from flask import current_app
from redis.exceptions import RedisError

from webapp.api.errors import ApiError
from webapp.audit.context import client_ip
from webapp.clock import utcnow
from webapp.queues import redis_connection

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


def check(action: str) -> None:
    """Count this request against ``action``'s limit; raise RateLimited (429 + Retry-After) if over."""
    limit = current_app.config["RATE_LIMITS"][action]
    now = int(utcnow().timestamp())
    window = now // WINDOW_SECONDS
    key = f"flowdeck:ratelimit:{action}:{client_ip() or 'unknown'}:{window}"
    try:
        pipe = redis_connection().pipeline()
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 1)
        count = pipe.execute()[0]
    except RedisError:
        log.warning("rate limit for %s not checked: Redis is unavailable", action)
        return
    if count > limit:
        retry_after = WINDOW_SECONDS * (window + 1) - now
        raise RateLimited("Too many attempts from this address; wait a minute and try again.",
                          headers={"Retry-After": str(max(retry_after, 1))})
