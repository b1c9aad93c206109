"""Creating, finding and administering users; the CLI, the pages and the API call these.

Every admin action writes its audit event and its domain event (``user.*``/``auth.*`` in the
events outbox, docs/architecture.md) in the same transaction and, where it takes access away (lock,
suspend, deactivate, role change, revoke), ends the user's sessions so the change applies at
their next request (docs/security.md §12).
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Select, or_, select

from webapp.audit.service import record
from webapp.auth import sessions
from webapp.auth.models import UserSession
from webapp.auth.passwords import hash_password, password_problem
from webapp.clock import utcnow
from webapp.events.service import publish
from webapp.exceptions import Conflict, InvalidInput, NotFound
from webapp.extensions import db
from webapp.formatting import iso
from webapp.users.models import ROLES, USER_STATUSES, User, normalize_email


def announce(event: str, actor: User | int | None, user: User, details: dict[str, Any]) -> None:
    """Audit a change to ``user`` and publish it as a domain event, in the caller's transaction."""
    record(event, actor=actor, target_type="user", target_id=user.id, details=details)
    publish(event, {"user_id": user.id, **details})


def find_by_email(email: str) -> User | None:
    address = normalize_email(email)
    if "\x00" in address:  # no stored address has one, and PostgreSQL refuses it in a query
        return None
    return db.session.scalar(select(User).where(User.email == address))


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("There is no user with this id.", code="user_not_found")
    return user


def get_by_email(email: str) -> User:
    user = find_by_email(email)
    if user is None:
        raise NotFound(f"There is no user with the email {normalize_email(email)}.", code="user_not_found")
    return user


def create_user(email: str, password: str, *, name: str = "", role: str = "viewer", status: str = "active") -> User:
    user = User(
        email=normalize_email(email),
        name=name,
        role=role,
        status=status,
        password_hash=hash_password(password, current_app.config["BCRYPT_ROUNDS"]),
    )
    db.session.add(user)
    db.session.flush()
    return user


def admin_create(actor: User, email: str, password: str, *, name: str, role: str) -> User:
    """An admin-made account is active at once (the admin vouches for the address)."""
    if find_by_email(email) is not None:
        raise Conflict("An account with this email already exists.", code="email_taken")
    user = create_user(email, password, name=name, role=role, status="active")
    user.email_verified_at = utcnow()
    announce("user.create", actor, user, {"role": role})
    db.session.commit()
    return user


def update_user(actor: User | None, user: User, *, name: str | None = None, role: str | None = None,
                status: str | None = None) -> None:
    """Change name, role and/or status in ONE transaction: all of them apply, or none does."""
    try:
        if name is not None and name != user.name:
            announce("user.update", actor, user, {"field": "name"})
            user.name = name
        if role is not None and role != user.role:
            _change_role(actor, user, role)
        if status is not None and status != user.status:
            _change_status(actor, user, status)
    except Exception:
        db.session.rollback()
        raise
    db.session.commit()


def _change_role(actor: User | None, user: User, role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"Unknown role {role!r}.", details={"fields": {"role": "unknown role"}})
    _guard_last_admin(user, role=role)
    announce("user.role_change", actor, user, {"from": user.role, "to": role})
    user.role = role
    sessions.revoke_all(user.id, "role_change")


def _change_status(actor: User | None, user: User, status: str) -> None:
    if status not in USER_STATUSES:
        raise InvalidInput(f"Unknown status {status!r}.", details={"fields": {"status": "unknown status"}})
    if status != "active":
        _guard_last_admin(user, status=status)
    announce("user.status_change", actor, user, {"from": user.status, "to": status})
    user.status = status
    if status != "active":
        sessions.revoke_all(user.id, status)


def lock(actor: User | None, user: User, minutes: int, reason: str = "") -> None:
    if actor is not None and actor.id == user.id:
        raise Conflict("You cannot lock your own account.", code="cannot_lock_self")
    user.locked_until = utcnow() + timedelta(minutes=minutes)
    announce("auth.locked", actor, user, {"minutes": minutes, "reason": reason, "until": user.locked_until.isoformat()})
    sessions.revoke_all(user.id, "locked")
    db.session.commit()


def unlock(actor: User | None, user: User) -> None:
    """Clear the lock and the failure counter (docs/security.md §7)."""
    announce("auth.unlocked", actor, user, {"failures": user.failed_login_count})
    user.locked_until = None
    user.failed_login_count = 0
    db.session.commit()


def revoke_sessions(actor: User | None, user: User, reason: str = "admin_revoke") -> int:
    count = sessions.revoke_all(user.id, reason)
    record("auth.session_revoke", actor=actor, target_type="user", target_id=user.id, details={"sessions": count})
    db.session.commit()
    return count


def revoke_session(actor: User, row: UserSession) -> None:
    """End one session (a user's own, or anyone's for an admin); the caller checked ownership."""
    sessions.revoke(row, "user_revoke" if actor.id == row.user_id else "admin_revoke")
    record("auth.session_revoke", actor=actor, target_type="session", target_id=row.id,
           details={"user_id": row.user_id, "kind": row.kind})
    db.session.commit()


def change_password(user: User, new_password: str, keep_session: str | None) -> None:
    """Set a new password and end every other session of the user (docs/security.md §12)."""
    problem = password_problem(new_password)
    if problem:
        raise InvalidInput(problem, details={"fields": {"new_password": problem}})
    user.password_hash = hash_password(new_password, current_app.config["BCRYPT_ROUNDS"])
    ended = sessions.revoke_all(user.id, "password_change", keep=keep_session)
    record("user.password_change", actor=user, target_type="user", target_id=user.id, details={"sessions_ended": ended})
    db.session.commit()


def _guard_last_admin(user: User, *, role: str = "admin", status: str = "active") -> None:
    """Refuse to demote, suspend or deactivate the last active admin: nobody could undo it."""
    if user.role != "admin" or (role == "admin" and status == "active"):
        return
    others = db.session.scalar(select(User.id).where(User.role == "admin", User.status == "active", User.id != user.id))
    if others is None:
        raise Conflict("This is the last active admin; promote another admin first.", code="last_admin")


def users_query(*, status: str | None = None, role: str | None = None, q: str | None = None) -> Select:
    query = select(User).order_by(User.id)
    if status:
        query = query.where(User.status == status)
    if role:
        query = query.where(User.role == role)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(or_(User.email.ilike(pattern, escape="\\"), User.name.ilike(pattern, escape="\\")))
    return query


def to_dict(user: User) -> dict[str, Any]:
    """The public shape of a user: no hash, no counter, no token material."""
    now = utcnow()
    return {
        "id": user.id,
        "email": user.email,
        "name": user.name,
        "role": user.role,
        "status": user.status,
        "email_verified_at": iso(user.email_verified_at),
        "locked_until": iso(user.locked_until) if user.locked_at(now) else None,
        "last_login_at": iso(user.last_login_at),
        "created_at": iso(user.created_at),
    }
