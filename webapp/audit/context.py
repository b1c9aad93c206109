"""Where a request comes from: client IP, user agent, request id.

The client IP is ``request.remote_addr`` after Werkzeug's ``ProxyFix(x_for=TRUSTED_PROXIES)``,
which ``create_app`` installs once: it takes the address the N-th trusted proxy saw, i.e. the
N-th entry from the RIGHT of ``X-Forwarded-For``. The left-most entry is whatever the client
chose to send and is never trusted. With ``TRUSTED_PROXIES=0`` the header is ignored. Audit
rows, rate limits and error logs all read the address here, so they always agree.
"""
from __future__ import annotations

import ipaddress

from flask import g, has_request_context, request

from webapp.logs import escape_newlines

MAX_AGENT_CHARS = 256


def client_ip() -> str | None:
    if not has_request_context():
        return None
    return _valid_ip(request.remote_addr or "")


def _valid_ip(value: str) -> str | None:
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def user_agent() -> str | None:
    if not has_request_context():
        return None
    agent = request.headers.get("User-Agent", "")
    return escape_newlines(agent).replace("\x00", "\\x00")[:MAX_AGENT_CHARS] or None


def request_id() -> str | None:
    return g.get("request_id") if has_request_context() else None
