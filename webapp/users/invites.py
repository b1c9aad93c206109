"""Inviting a user by email: an admin creates the account without a password, and the user
chooses one through a link mailed to them.

The account is ``pending`` until then, with a random password nobody knows. The link starts
with ``PUBLIC_BASE_URL`` (never the request's Host) and holds a random token that is stored
hashed, works once, expires after ``EMAIL_TOKEN_HOURS`` and is bound to the address it was sent
to. Sending a new invitation voids the earlier ones. Inviting, re-sending and accepting are
audited and published like every other ``user.*`` change.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select, update

from webapp.auth.passwords import hash_password, password_problem
from webapp.auth.registration import public_link
from webapp.auth.sessions import digest
from webapp.clock import utcnow
from webapp.exceptions import Conflict, InvalidInput
from webapp.extensions import db
from webapp.mail.service import send
from webapp.users.models import User, UserInvite
from webapp.users.schemas import UserCreateBody
from webapp.users.service import admin_create, announce, create_user, find_by_email

MAX_TOKEN_CHARS = 200
# An admin may activate an invited account before its owner accepts (it still has no password
# anyone knows); a suspended or deactivated one stays shut.
ACCEPTING = ("pending", "active")


class InvalidInvite(InvalidInput):
    code = "invalid_invite"


def create_or_invite(actor: User, body: UserCreateBody) -> User:
    """``POST /users`` from the API or the console: a password given makes an active account."""
    if body.password is not None:
        return admin_create(actor, body.email, body.password, name=body.name, role=body.role)
    return invite(actor, body.email, name=body.name, role=body.role)


def invite(actor: User, email: str, *, name: str, role: str) -> User:
    """Create a pending account and mail its set-password link, in one transaction."""
    if find_by_email(email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    user = create_user(email, secrets.token_urlsafe(32), name=name, role=role, status="pending")
    announce("user.invite", actor, user, {"role": role})
    mail_invite(actor, user)
    db.session.commit()
    return user


def is_invited(user: User) -> bool:
    """A pending account made by an invitation that has not been accepted yet."""
    return user.status == "pending" and db.session.scalar(
        select(UserInvite.id).where(UserInvite.user_id == user.id).limit(1)) is not None


def resend(actor: User, user: User) -> None:
    if not is_invited(user):
        raise Conflict(f"{user.email} has no invitation waiting; only invited, pending accounts get one.",
                       code="not_invited")
    announce("user.invite_resend", actor, user, {})
    mail_invite(actor, user)
    db.session.commit()


def mail_invite(actor: User, user: User) -> None:
    """Void the user's earlier links and mail a fresh one (caller commits)."""
    now = utcnow()
    db.session.execute(update(UserInvite).where(UserInvite.user_id == user.id, UserInvite.used_at.is_(None))
                       .values(used_at=now).execution_options(synchronize_session=False))
    token = secrets.token_urlsafe(32)
    hours = current_app.config["EMAIL_TOKEN_HOURS"]
    db.session.add(UserInvite(user_id=user.id, email=user.email, token_hash=digest(token), invited_by=actor.id,
                              created_at=now, expires_at=now + timedelta(hours=hours)))
    inviter = actor.name or actor.email
    send(user.email, "You are invited to Flowdeck",
         f"{inviter} created a Flowdeck account for you ({user.email}, role {user.role}).\n\n"
         f"Open this link within {hours} hours to choose your password:\n\n"
         f"{public_link('invites.accept', token=token)}\n\n"
         "The link works once. If you did not expect this message, you can ignore it.\n")


def pending_invite(token: str) -> UserInvite | None:
    """The usable invitation behind a token, without spending it (the page that asks for a password)."""
    invite_row = db.session.scalar(select(UserInvite).where(
        UserInvite.token_hash == digest(token[:MAX_TOKEN_CHARS]), UserInvite.used_at.is_(None),
        UserInvite.expires_at > utcnow()))
    if invite_row is None:
        return None
    user = db.session.get(User, invite_row.user_id)
    usable = user is not None and user.email == invite_row.email and user.status in ACCEPTING
    return invite_row if usable else None


def accept(token: str, password: str) -> User:
    """Spend the token and set the password: the account becomes active with a verified address."""
    problem = password_problem(password)
    if problem:
        raise InvalidInput(problem, details={"fields": {"password": problem}})
    now = utcnow()
    claimed = db.session.execute(
        update(UserInvite).where(UserInvite.token_hash == digest(token[:MAX_TOKEN_CHARS]),
                                 UserInvite.used_at.is_(None), UserInvite.expires_at > now)
        .values(used_at=now).returning(UserInvite.user_id, UserInvite.email)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    user = None if claimed is None else db.session.get(User, claimed.user_id)
    if user is None or user.email != claimed.email or user.status not in ACCEPTING:
        db.session.rollback()
        raise InvalidInvite("This invitation link is invalid, used or expired; ask an administrator for a new one.")
    user.password_hash = hash_password(password, current_app.config["BCRYPT_ROUNDS"])
    user.status = "active"
    user.email_verified_at = now
    announce("user.invite_accept", user, user, {})
    db.session.commit()
    return user
