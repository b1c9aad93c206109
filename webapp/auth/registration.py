"""Self-registration and email verification (docs/security.md §10).

``REGISTRATION_MODE``: ``closed`` refuses, ``open`` creates active users, ``verify`` (default)
creates ``pending`` users who become active by using the token mailed to them. Tokens are
random (``secrets``), stored hashed, single-use, expire after ``EMAIL_TOKEN_HOURS`` and are bound
to the user and to the address they were sent to: changing the address voids them.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app, url_for
from sqlalchemy import update

from webapp.api.errors import ApiError
from webapp.audit.service import record
from webapp.auth.models import EmailToken
from webapp.auth.sessions import digest
from webapp.clock import utcnow
from webapp.exceptions import Conflict
from webapp.extensions import db
from webapp.mail.service import send
from webapp.users.models import User
from webapp.users.service import create_user, find_by_email


class RegistrationClosed(ApiError):
    status, code = 403, "registration_closed"


class InvalidEmailToken(ApiError):
    status, code = 400, "invalid_token"


def register(email: str, password: str, name: str) -> User:
    mode = current_app.config["REGISTRATION_MODE"]
    if mode == "closed":
        raise RegistrationClosed("Registration is closed; ask an administrator for an account.")
    if find_by_email(email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    user = create_user(email, password, name=name, role="viewer", status="active" if mode == "open" else "pending")
    record("auth.register", actor=user, target_type="user", target_id=user.id, details={"mode": mode})
    if mode == "verify":
        send_verification(user)
    db.session.commit()
    return user


def send_verification(user: User) -> None:
    """Mail a fresh token to the user's current address (caller commits)."""
    token = secrets.token_urlsafe(32)
    hours = current_app.config["EMAIL_TOKEN_HOURS"]
    db.session.add(EmailToken(user_id=user.id, email=user.email, token_hash=digest(token),
                              expires_at=utcnow() + timedelta(hours=hours)))
    link = url_for("auth.verify_email_page", token=token, _external=True)
    send(user.email, "Verify your Flowdeck email address",
         f"Open this link within {hours} hours to activate your account:\n\n{link}\n\n"
         f"Or send this token to POST /api/v3/auth/verify-email: {token}\n")


def resend_verification(email: str) -> None:
    """Mail a new token if the address belongs to a pending user; silent otherwise (no enumeration)."""
    user = find_by_email(email)
    if user is not None and user.status == "pending" and user.email_verified_at is None:
        send_verification(user)
        db.session.commit()


def verify_email(token: str) -> User:
    now = utcnow()
    claimed = db.session.execute(
        update(EmailToken).where(EmailToken.token_hash == digest(token), EmailToken.used_at.is_(None),
                                 EmailToken.expires_at > now)
        .values(used_at=now).returning(EmailToken.user_id, EmailToken.email)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    user = None if claimed is None else db.session.get(User, claimed.user_id)
    if user is None or user.email != claimed.email:
        db.session.rollback()
        raise InvalidEmailToken("This verification link is invalid, used or expired.")
    user.email_verified_at = now
    if user.status == "pending":
        user.status = "active"
    record("auth.verify", actor=user, target_type="user", target_id=user.id)
    db.session.commit()
    return user

