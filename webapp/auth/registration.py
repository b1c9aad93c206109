"""Self-registration and email verification (docs/security.md §10).

``REGISTRATION_MODE``: ``closed`` refuses, ``open`` creates active users, ``verify`` (default)
creates ``pending`` users who become active by using the token mailed to them. Tokens are
random (``secrets``), stored hashed, single-use, expire after ``EMAIL_TOKEN_HOURS`` and are bound
to the user and to the address they were sent to: changing the address voids them.

In ``verify`` mode registering an address that already has an account answers exactly like a
new registration (202, "check your mail", the same bcrypt work) and mails the owner instead, so
the endpoint cannot be used to learn who has an account. In ``open`` mode the account is usable
at once, so an existing address is a plain 409 ``email_taken``: there is nothing to hide behind.

Links in mail start with ``PUBLIC_BASE_URL``, never with the request's Host header, which the
client chooses: a forged Host must not put an attacker's address around a valid token.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import update

from webapp.api.errors import ApiError
from webapp.audit.service import record
from webapp.auth.models import EmailToken
from webapp.auth.passwords import hash_password
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


def register(email: str, password: str, name: str) -> User | None:
    """Create the account; None means "check your mail" (verify mode, address already taken)."""
    mode = current_app.config["REGISTRATION_MODE"]
    if mode == "closed":
        raise RegistrationClosed("Registration is closed; ask an administrator for an account.")
    existing = find_by_email(email)
    if existing is not None and mode == "verify":
        hash_password(password, current_app.config["BCRYPT_ROUNDS"])  # the work a new account costs
        notify_owner(existing)
        db.session.commit()
        return None
    if existing is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    user = create_user(email, password, name=name, role="viewer", status="active" if mode == "open" else "pending")
    record("auth.register", actor=user, target_type="user", target_id=user.id, details={"mode": mode})
    if mode == "verify":
        send_verification(user)
    db.session.commit()
    return user


def notify_owner(user: User) -> None:
    """Someone registered with this account's address: tell its owner, audited (caller commits).
    A still-unverified owner gets a fresh link, which is what they most likely wanted."""
    record("auth.register", actor=None, outcome="failure", target_type="user", target_id=user.id,
           details={"reason": "email_taken"})
    if user.status == "pending" and user.email_verified_at is None:
        send_verification(user)
        return
    send(user.email, "Someone tried to register with your Flowdeck address",
         "Somebody asked for a new Flowdeck account with this email address, which already has one.\n\n"
         f"If it was you, sign in at {public_link('auth.login')} instead. Otherwise you can ignore "
         "this message: nothing about your account has changed.\n")


def public_link(endpoint: str, **values) -> str:
    """An absolute link for mail, built from PUBLIC_BASE_URL and the route, never from the request."""
    path = current_app.url_map.bind("", "/").build(endpoint, values)
    return current_app.config["PUBLIC_BASE_URL"] + path


def send_verification(user: User) -> None:
    """Mail a fresh token to the user's current address (caller commits)."""
    token = secrets.token_urlsafe(32)
    hours = current_app.config["EMAIL_TOKEN_HOURS"]
    db.session.add(EmailToken(user_id=user.id, email=user.email, token_hash=digest(token),
                              expires_at=utcnow() + timedelta(hours=hours)))
    link = public_link("auth.verify_email_page", token=token)
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

