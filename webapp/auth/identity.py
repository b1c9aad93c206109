"""Who is calling: the browser session cookie, or a bearer access token.

Unsafe API methods (POST, PUT, PATCH, DELETE) accept only a bearer token: the API is exempt
from form CSRF tokens, so a cookie must never be enough to change state through it. A request
that carries a bearer token is judged by the token alone.
"""
from __future__ import annotations

import jwt
from flask import Request, request
from flask_login import LoginManager

from webapp.auth.tokens import decode_access_token
from webapp.errors import wants_json
from webapp.extensions import db
from webapp.security import SAFE_METHODS
from webapp.users.models import User


def bearer_token(req: Request) -> str | None:
    scheme, _, token = req.headers.get("Authorization", "").partition(" ")
    return (token.strip() or None) if scheme.lower() == "bearer" else None


def cookie_allowed() -> bool:
    if not wants_json():
        return True
    return request.method in SAFE_METHODS and bearer_token(request) is None


def load_user_from_session(user_id: str) -> User | None:
    if not cookie_allowed() or not user_id.isdigit():
        return None
    return db.session.get(User, int(user_id))


def load_user_from_bearer(req: Request) -> User | None:
    token = bearer_token(req)
    if token is None:
        return None
    try:
        claims = decode_access_token(token)
    except jwt.InvalidTokenError:
        return None
    user = db.session.get(User, int(claims["sub"])) if claims["sub"].isdigit() else None
    return user if user is not None and user.is_active else None


def init_identity(manager: LoginManager) -> None:
    manager.login_view = "auth.login"
    manager.user_loader(load_user_from_session)
    manager.request_loader(load_user_from_bearer)
