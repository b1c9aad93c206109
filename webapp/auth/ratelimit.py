"""Per-IP rate limits on the credential endpoints, password change and every admin route.

A moving one-minute window per (action, client IP), kept in Redis by the ``limits`` library so
every web process shares it: the N+1-th request within any 60 seconds is refused, with no
window edge to burst across (a fixed window lets 2N through around the minute mark).
``Retry-After`` says when the oldest counted request leaves the window. Limits come from
``RATE_LIMIT_<ACTION>`` (requests per minute); the login page and the login API share one
bucket, as do the register page and API.

Why ``limits`` and not Flask-Limiter, which is built on it: our checks run inside the views
(the login page counts only its POSTs, admin routes are found by their declared role), they
answer with the API's own 429 body, and the same counter serves pages and API. Flask-Limiter's
decorators, its own error handler and its ``RATELIMIT_*`` settings would add a second
configuration and error path around the same storage and strategy.

If Redis is down the request is allowed and a warning logged: the account lockout still
protects passwords, and a cache outage must not lock everyone out of the console.
"""
from __future__ import annotations

import logging
import math
import time

from flask import Flask, current_app, request
from limits import RateLimitItemPerMinute
from limits.errors import StorageError
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter
from redis.exceptions import RedisError

from webapp.api.errors import ApiError
from webapp.audit.context import client_ip
from webapp.queues import redis_connection

log = logging.getLogger(__name__)
KEY_PREFIX = "flowdeck:ratelimit"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"


def limiter() -> MovingWindowRateLimiter:
    """One limiter per app, on the app's own Redis connection pool."""
    extensions = current_app.extensions
    if "flowdeck_ratelimit" not in extensions:
        pool = redis_connection().connection_pool
        storage = RedisStorage(current_app.config["REDIS_URL"], connection_pool=pool, key_prefix=KEY_PREFIX,
                               wrap_exceptions=True)
        extensions["flowdeck_ratelimit"] = MovingWindowRateLimiter(storage)
    return extensions["flowdeck_ratelimit"]


def check(action: str) -> None:
    """Count this request against ``action``'s limit; raise RateLimited (429 + Retry-After) if over."""
    item = RateLimitItemPerMinute(current_app.config["RATE_LIMITS"][action])
    who = client_ip() or "unknown"
    try:
        allowed = limiter().hit(item, action, who)
        reset_at = None if allowed else limiter().get_window_stats(item, action, who).reset_time
    except (StorageError, RedisError):
        log.warning("rate limit for %s not checked: Redis is unavailable", action)
        return
    if not allowed:
        retry_after = max(math.ceil(reset_at - time.time()), 1)
        raise RateLimited("Too many attempts from this address; wait a minute and try again.",
                          headers={"Retry-After": str(retry_after)})


def init_ratelimits(app: Flask) -> None:
    """Every route that declares the admin role is limited per client IP (``RATE_LIMIT_ADMIN``)."""

    @app.before_request
    def limit_admin_routes() -> None:
        view = app.view_functions.get(request.endpoint or "")
        if getattr(view, "access", None) == "admin":
            check("admin")
