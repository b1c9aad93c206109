"""API access tokens: short-lived HS256 JWTs signed with JWT_SECRET (never SECRET_KEY).

Decoding pins the algorithm list and requires every claim we rely on, so ``alg: none``, a
token without ``exp`` or one minted for another audience is refused (docs/security.md §15).
"""
from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import jwt
from flask import current_app

from webapp.clock import utcnow

ALGORITHM = "HS256"
ISSUER = "flowdeck"
AUDIENCE = "flowdeck-api"
ACCESS_TOKEN_TTL = timedelta(minutes=15)
LEEWAY_SECONDS = 10
REQUIRED_CLAIMS = ["exp", "iat", "sub", "jti", "typ", "iss", "aud"]


def issue_access_token(user_id: int, session_id: str | None = None) -> str:
    now = utcnow()
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "iat": now,
        "exp": now + ACCESS_TOKEN_TTL,
        "jti": secrets.token_urlsafe(16),
        "typ": "access",
    }
    if session_id is not None:
        claims["sid"] = session_id
    return jwt.encode(claims, current_app.config["JWT_SECRET"], algorithm=ALGORITHM)


def decode_access_token(token: str) -> dict[str, Any]:
    """Return the claims of a valid access token; raise ``jwt.InvalidTokenError`` otherwise.

    Time claims are checked against ``webapp.clock`` rather than PyJWT's own clock, so expiry
    follows the same "now" as every other rule and tests can move it.
    """
    claims = jwt.decode(
        token,
        current_app.config["JWT_SECRET"],
        algorithms=[ALGORITHM],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={"require": REQUIRED_CLAIMS, "verify_exp": False, "verify_iat": False},
    )
    now = utcnow().timestamp()
    if not isinstance(claims["exp"], int | float) or claims["exp"] + LEEWAY_SECONDS <= now:
        raise jwt.ExpiredSignatureError("the token has expired")
    if not isinstance(claims["iat"], int | float) or claims["iat"] - LEEWAY_SECONDS > now:
        raise jwt.ImmatureSignatureError("the token was issued in the future")
    if claims.get("typ") != "access" or not isinstance(claims["sub"], str):
        raise jwt.InvalidTokenError("not an access token")
    return claims
