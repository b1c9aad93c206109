"""``/api/v3/auth``: register, verify, login, refresh, logout, me, own sessions."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify
from flask_login import current_user

from webapp.api.errors import ApiError
from webapp.api.inputs import parse_body
from webapp.audit.context import client_ip, user_agent
from webapp.auth import ratelimit, refresh, registration, sessions
from webapp.auth.identity import current_session
from webapp.auth.schemas import EmailBody, LoginBody, RefreshBody, RegisterBody, TokenBody
from webapp.auth.service import authenticate, sign_in
from webapp.auth.service import logout as logout_session
from webapp.exceptions import NotFound
from webapp.security import public, require_role
from webapp.users.service import revoke_session as revoke_one
from webapp.users.service import to_dict

bp = Blueprint("auth_api", __name__, url_prefix="/auth")
CHECK_MAIL = "Check your mail: we sent a link to activate the account."


def invalid_credentials() -> ApiError:
    """The one answer for every failed credential check (docs/security.md §3)."""
    return ApiError("Email or password is incorrect.", code="invalid_credentials", status=401)


@bp.post("/register")
@public
def register():
    ratelimit.check("register")
    body = parse_body(RegisterBody)
    user = registration.register(body.email, body.password, body.name)
    if user is None or user.status == "pending":
        # The same answer whether or not the address already had an account (no enumeration).
        return jsonify({"status": CHECK_MAIL}), 202
    return jsonify({"user": to_dict(user)}), 201


@bp.post("/verify-email")
@public
def verify_email():
    ratelimit.check("verify")
    user = registration.verify_email(parse_body(TokenBody).token)
    return jsonify({"user": to_dict(user)})


@bp.post("/resend-verification")
@public
def resend_verification():
    ratelimit.check("verify")
    registration.resend_verification(parse_body(EmailBody).email)
    return jsonify({"status": "If the address belongs to an unverified account, a new link was sent."}), 202


@bp.post("/login")
@public
def login():
    ratelimit.check("login")
    body = parse_body(LoginBody)
    result = authenticate(body.email, body.password)
    if result.reason == "pending":
        raise ApiError("Verify your email address before signing in.", code="email_not_verified", status=403)
    if not result.ok:
        raise invalid_credentials()
    row, refresh_token = sign_in(result.user, "api", ip=client_ip(), user_agent=user_agent())
    return jsonify({**refresh.token_pair(row, refresh_token), "user": to_dict(result.user)})


@bp.post("/refresh")
@public
def refresh_tokens():
    ratelimit.check("refresh")
    body = parse_body(RefreshBody)
    try:
        row, pair = refresh.rotate(body.refresh_token)
    except refresh.InvalidRefreshToken:
        raise ApiError("The refresh token is invalid or has been used.", code="invalid_token", status=401) from None
    return jsonify({**pair, "user": to_dict(row.user)})


@bp.post("/logout")
@require_role("viewer")
def logout():
    """End this session and so its refresh family; its access tokens stop working at once."""
    logout_session(current_user, current_session())
    return Response(status=204)


@bp.get("/me")
@require_role("viewer")
def me():
    return jsonify({"user": to_dict(current_user)})


@bp.get("/sessions")
@require_role("viewer")
def list_sessions():
    here = current_session().id
    return jsonify({"items": [sessions.to_dict(row, here) for row in sessions.live_sessions(current_user.id)],
                    "next_cursor": None})


@bp.delete("/sessions/<session_id>")
@require_role("viewer")
def revoke_session(session_id: str):
    """Users end their own sessions only; someone else's id is a 404, like an unknown one."""
    row = sessions.find(session_id)
    if row is None or row.user_id != current_user.id or row.is_revoked:
        raise NotFound("You have no live session with this id.", code="session_not_found")
    revoke_one(current_user, row)
    return Response(status=204)
