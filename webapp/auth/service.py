"""Checking credentials with lockout (docs/security.md §3-9). Free of ``request``: pages and API share it.

The order matters. For a known address we first *claim* an attempt with one atomic UPDATE that
bumps the failure counter, and only a claimed attempt may run bcrypt. The UPDATE refuses while
the account is locked, and the claim that reaches the threshold sets the lock itself, so twenty
parallel wrong passwords run at most five verifies. The claim commits before bcrypt runs, so
the counter survives the 401 (docs/security.md §8) and no row lock is held during the slow hash.
Success resets the counter. Failures during a lock change nothing: the lock is not extended.
Unknown and locked accounts still pay one bcrypt verify against a dummy hash (docs/security.md §4).
"""
from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import case, update

from webapp.audit.service import record
from webapp.auth import sessions
from webapp.auth.passwords import hash_password, verify_password
from webapp.clock import utcnow
from webapp.extensions import db
from webapp.users.models import User, normalize_email
from webapp.users.service import announce, find_by_email


@dataclass(frozen=True)
class AuthResult:
    """``user`` is set only when the password was verified; ``pending`` may then be told apart."""

    user: User | None
    reason: str

    @property
    def ok(self) -> bool:
        return self.reason == "ok"


@functools.lru_cache(maxsize=4)
def dummy_hash(rounds: int) -> str:
    return hash_password("flowdeck dummy password", rounds)


def burn_verify(password: str) -> None:
    """Spend the same bcrypt work as a real check, for accounts we must not reveal."""
    verify_password(password, dummy_hash(current_app.config["BCRYPT_ROUNDS"]))


def claim_attempt(email: str) -> tuple[int, bool] | None:
    """Atomically count one attempt for ``email``.

    Returns ``(user id, this claim set the lock)``, or None for an unknown or locked address.
    Only the claim that reached the threshold says True, so exactly one ``auth.locked`` follows.
    """
    if "\x00" in email:  # matches no stored address; PostgreSQL would refuse the query
        return None
    now = utcnow()
    threshold = current_app.config["LOCKOUT_THRESHOLD"]
    lock_until = now + timedelta(minutes=current_app.config["LOCKOUT_MINUTES"])
    # After an expired lock the count starts again at one.
    new_count = case((User.locked_until.is_not(None), 1), else_=User.failed_login_count + 1)
    result = db.session.execute(
        update(User)
        .where(User.email == email, (User.locked_until.is_(None)) | (User.locked_until <= now))
        .values(failed_login_count=new_count, locked_until=case((new_count >= threshold, lock_until), else_=None))
        .returning(User.id, User.locked_until)
        .execution_options(synchronize_session=False)
    )
    row = result.one_or_none()
    db.session.commit()
    return None if row is None else (row.id, row.locked_until is not None)


def authenticate(email: str, password: str) -> AuthResult:
    """Check a login attempt and write its audit events; the caller starts the session on ``ok``."""
    address = normalize_email(email)
    claim = claim_attempt(address)
    if claim is None:
        burn_verify(password)
        user = find_by_email(address)
        reason = "unknown_user" if user is None else "locked"
        return _fail(user, address, reason)
    user_id, locking = claim
    user = db.session.get(User, user_id, populate_existing=True)
    if not verify_password(password, user.password_hash):
        result = _fail(user, address, "wrong_password")
        _announce_lock(user, locking)
        return result
    user.failed_login_count = 0
    user.locked_until = None
    if user.status == "pending":
        db.session.commit()
        return AuthResult(user, "pending")
    if not user.is_active:
        return _fail(user, address, user.status)
    return AuthResult(user, "ok")


def check_current_password(user: User, password: str) -> bool:
    """A password change re-checks the current password under the login's lockout.

    Otherwise a stolen session could guess the password at bcrypt speed with no limit. The same
    atomic claim counts the attempt, a locked account is refused without a real verify, the
    claim that reaches the threshold locks the account (which ends its sessions at the next
    request), and success resets the counter. Each refusal is audited as a failed change.
    """
    claim = claim_attempt(user.email)
    if claim is None:
        burn_verify(password)
        return _refuse_change(user, "locked")
    _, locking = claim
    db.session.refresh(user)
    if not verify_password(password, user.password_hash):
        _refuse_change(user, "wrong_password")
        _announce_lock(user, locking)
        return False
    user.failed_login_count = 0
    user.locked_until = None
    db.session.commit()
    return True


def _refuse_change(user: User, reason: str) -> bool:
    record("user.password_change", actor=user, outcome="failure", target_type="user", target_id=user.id,
           details={"reason": reason})
    db.session.commit()
    return False


def _announce_lock(user: User, locking: bool) -> None:
    """The one ``auth.locked`` event, written by the claim that reached the threshold."""
    if locking:
        announce("auth.locked", None, user,
                 {"failures": user.failed_login_count, "until": user.locked_until.isoformat()})
        db.session.commit()


def _fail(user: User | None, address: str, reason: str) -> AuthResult:
    """Audit a failed attempt; the actor is unknown (whoever typed it), the account is the target."""
    target = {} if user is None else {"target_type": "user", "target_id": user.id}
    record("auth.login", actor=None, outcome="failure", details={"email": address[:100], "reason": reason}, **target)
    db.session.commit()
    return AuthResult(None, reason)


def sign_in(user: User, kind: str, *, ip: str | None, user_agent: str | None):
    """After a successful ``authenticate``: open the session, stamp and audit the login.

    Returns the session row and the secret only the client keeps (cookie or refresh token).
    """
    row, secret = sessions.start(user, kind, ip=ip, user_agent=user_agent)
    user.last_login_at = utcnow()
    user.last_login_ip = ip
    record("auth.login", actor=user, target_type="user", target_id=user.id, details={"kind": kind})
    db.session.commit()
    return row, secret


def logout(user: User, row) -> None:
    """End the caller's own session (and so its refresh family), audited."""
    sessions.revoke(row, "logout")
    record("auth.logout", actor=user, target_type="session", target_id=row.id)
    db.session.commit()
