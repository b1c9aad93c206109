"""Who is calling: the browser session cookie, or a bearer access token.

Both resolve to a live ``user_sessions`` row on every request (docs/security.md §12): the cookie carries
the session secret, an access token names its session in ``sid``. A token without ``sid``, or
whose session has ended, is refused, so logout and revocation take effect before the 15 minutes
of a JWT run out. The row is kept in ``g.user_session`` for "this session" features.

Unsafe API methods (POST, PUT, PATCH, DELETE) accept only a bearer token: the API is exempt
from form CSRF tokens, so a cookie must never be enough to change state through it. A request
that carries a bearer token is judged by the token alone.
"""
from __future__ import annotations

import jwt
from flask import Request, g, request, session
from flask_login import LoginManager

from webapp.auth import sessions
from webapp.auth.tokens import decode_access_token
from webapp.errors import wants_json
from webapp.security import SAFE_METHODS
from webapp.users.models import User

COOKIE_KEY = "sid"


def bearer_token(req: Request) -> str | None:
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def cookie_allowed() -> bool:
    if not wants_json():
        return True
    return request.method in SAFE_METHODS and bearer_token(request) is None


def load_user_from_session(user_id: str) -> User | None:
    secret = session.get(COOKIE_KEY)
    if not cookie_allowed() or not isinstance(secret, str):
        return None
    row = sessions.resolve(sessions.digest(secret), "browser")
    if row is None or str(row.user_id) != user_id:
        return None
    g.user_session = row
    return row.user


def load_user_from_bearer(req: Request) -> User | None:
    token = bearer_token(req)
    if token is None:
        return None
    try:
        claims = decode_access_token(token)
    except jwt.InvalidTokenError:
        return None
    session_id = claims.get("sid")
    row = sessions.resolve(session_id, "api") if isinstance(session_id, str) else None
    if row is None or str(row.user_id) != claims["sub"]:
        return None
    g.user_session = row
    return row.user


def current_session():
    return g.get("user_session")


def init_identity(manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.user_loader(load_user_from_session)
    manager.request_loader(load_user_from_bearer)
