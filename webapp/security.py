"""Browser-facing security: CSP with a per-request nonce, response headers, role checks.

Every view declares who may call it, with ``@public`` or ``@require_role(...)``; the
declaration is stored on the function so a test can walk ``app.url_map`` and prove that no
route was forgotten (SECURITY item 23).
"""
from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, Response, abort, current_app, g, redirect, request, url_for
from flask_login import current_user

from webapp.api.errors import ApiError
from webapp.errors import wants_json as is_api_request
from webapp.users.models import ROLES

ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
SAME_ORIGIN_FETCH_SITES = frozenset({"same-origin", "none"})

View = TypeVar("View", bound=Callable)


def csp_nonce() -> str:
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(18)
    return g.csp_nonce


def content_security_policy(nonce: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src 'self' 'nonce-{nonce}'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


def has_role(user, role: str) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and ROLE_RANK.get(user.role, -1) >= ROLE_RANK[role]


def _deny_anonymous() -> Response:
    if is_api_request():
        raise ApiError("Authentication is required.", code="unauthenticated", status=401,
                       headers={"WWW-Authenticate": 'Bearer realm="flowdeck"'})
    here = request.full_path if request.query_string else request.path
    login_url = url_for("auth.login", next=here if request.method == "GET" else None)
    if request.headers.get("HX-Request") == "true":
        return Response(status=401, headers={"HX-Redirect": login_url})
    return redirect(login_url)


def require_role(role: str) -> Callable[[View], View]:
    """Allow the view to users holding ``role`` or a higher one."""
    if role not in ROLE_RANK:
        raise ValueError(f"unknown role {role!r}")

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(*args, **kwargs):
            if not current_user.is_authenticated:
                return _deny_anonymous()
            if not has_role(current_user, role):
                if is_api_request():
                    raise ApiError(f"This action needs the {role} role.", code="forbidden", status=403)
                abort(403)
            return view(*args, **kwargs)

        wrapper.access = role  # type: ignore[attr-defined]
        return wrapper  # type: ignore[return-value]

    return decorate


def public(view: View) -> View:
    """Mark a view as deliberately open to anonymous callers."""
    view.access = "public"  # type: ignore[attr-defined]
    return view


def refuse_cross_site() -> None:
    """Refuse unsafe requests that the browser says come from another site (docs/security.md §19)."""
    if request.method in SAFE_METHODS:
        return
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in SAME_ORIGIN_FETCH_SITES:
        if is_api_request():
            raise ApiError("Cross-site requests are refused.", code="cross_site_request", status=403)
        abort(403, description="Cross-site requests are refused.")


def limit_body_size() -> None:
    """Answer 413 from the declared length, before any view reads the body (docs/security.md §28)."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    if request.content_length is not None and request.content_length > limit:
        abort(413)


def set_security_headers(response: Response) -> Response:
    headers = response.headers
    headers["Content-Security-Policy"] = content_security_policy(csp_nonce())
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "same-origin"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Opener-Policy"] = "same-origin"
    if request.is_secure:
        headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
    if request.endpoint != "static" and (is_api_request() or current_user.is_authenticated):
        headers["Cache-Control"] = "no-store"
    return response


def register_security(app: Flask) -> None:
    app.before_request(limit_body_size)
    app.before_request(refuse_cross_site)
    app.after_request(set_security_headers)
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.jinja_env.globals["has_role"] = has_role
