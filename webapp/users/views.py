"""``/users``: the admin user console. Row actions answer htmx with the re-rendered row block
of the page template, and a plain form post with a redirect back to the list."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from pydantic import ValidationError

from webapp.api.inputs import MAX_DB_ID, field_errors
from webapp.audit.service import events_query
from webapp.auth import sessions
from webapp.clock import utcnow
from webapp.exceptions import Conflict, DomainError
from webapp.extensions import db, htmx
from webapp.fragments import render_block
from webapp.security import require_role
from webapp.users import invites, service
from webapp.users.models import ROLES, USER_STATUSES, User
from webapp.users.schemas import MAX_LOCK_MINUTES, UserCreateBody

bp = Blueprint("users", __name__, url_prefix="/users")
PAGE_SIZE = 25
DEFAULT_LOCK_MINUTES = 30


def list_context(**extra) -> dict:
    return {"roles": ROLES, "statuses": USER_STATUSES, "now": utcnow(), **extra}


@bp.get("")
@require_role("admin")
def index():
    return list_page()


def list_page(create_errors: dict[str, str] | None = None, create_values: dict[str, str] | None = None,
              code: int = 200):
    """The list with its filters from the query string, and the "Add a user" form's state."""
    status = request.args.get("status") if request.args.get("status") in USER_STATUSES else None
    role = request.args.get("role") if request.args.get("role") in ROLES else None
    q = request.args.get("q", "")[:100].replace("\x00", "").strip() or None
    after = request.args.get("after", "")
    query = service.users_query(status=status, role=role, q=q)
    if after.isdecimal() and len(after) <= 10 and int(after) <= MAX_DB_ID:
        query = query.where(User.id > int(after))
    rows = db.session.scalars(query.limit(PAGE_SIZE + 1)).all()
    users, more = rows[:PAGE_SIZE], len(rows) > PAGE_SIZE
    next_after = users[-1].id if more else None
    return render_template("users/list.html", **list_context(
        users=users, next_after=next_after, filters={"q": q or "", "status": status or "", "role": role or ""},
        create_errors=create_errors or {}, create_values=create_values or {})), code


CREATE_FIELDS = ("email", "name", "role", "password")


@bp.post("")
@require_role("admin")
def create():
    """The console's "Add a user": the same checks and audit as ``POST /api/v3/users``. With a
    first password the account is active at once, as the admin vouches for the address, and the
    admin passes the password on; without one the user is invited by mail to choose it."""
    values = {name: request.form.get(name, "").replace("\x00", "") for name in CREATE_FIELDS}
    try:
        body = UserCreateBody.model_validate(values)
    except ValidationError as error:
        return list_page({name.split(".")[0]: message for name, message in field_errors(error).items()},
                         values, code=422)
    try:
        user = invites.create_or_invite(current_user, body)
    except Conflict as error:
        db.session.rollback()
        return list_page({"email": error.message}, values, code=409)
    if body.password is None:
        flash(f"Invited {user.email} as {user.role}: they got a link to choose their password.", "info")
    else:
        flash(f"Created {user.email} as {user.role}. They can sign in now with the password you chose.", "info")
    return redirect(url_for("users.detail", user_id=user.id))


@bp.get("/<int:user_id>")
@require_role("admin")
def detail(user_id: int):
    user = service.get_user(user_id)
    recent = db.session.scalars(events_query(target_type="user", target_id=str(user.id)).limit(20)).unique().all()
    return render_template("users/detail.html", **list_context(
        user=user, sessions=sessions.live_sessions(user.id), events=recent, invited=invites.is_invited(user)))


def act(user_id: int, action) -> object:
    """Run an admin action on one user and answer with its row (htmx) or a redirect."""
    user = service.get_user(user_id)
    error = None
    try:
        message = action(user)
    except DomainError as failure:
        db.session.rollback()
        error, message = failure.message, None
    if htmx:
        context = list_context(user=user, row_error=error, row_message=message)
        return render_block("users/list.html", "user_row", **context)
    flash(error or message, "error" if error else "info")
    back = request.referrer or ""
    return redirect(back if back.startswith(request.host_url) else url_for("users.index"))


def lock_minutes() -> int:
    raw = request.form.get("minutes", "")
    return int(raw) if raw.isdecimal() and len(raw) <= 6 and 1 <= int(raw) <= MAX_LOCK_MINUTES else DEFAULT_LOCK_MINUTES


@bp.post("/<int:user_id>/lock")
@require_role("admin")
def lock(user_id: int):
    minutes = lock_minutes()
    reason = request.form.get("reason", "")[:200].replace("\x00", "")

    def run(user):
        service.lock(current_user, user, minutes, reason)
        return f"Locked {user.email} for {minutes} minutes."
    return act(user_id, run)


@bp.post("/<int:user_id>/unlock")
@require_role("admin")
def unlock(user_id: int):
    def run(user):
        service.unlock(current_user, user)
        return f"Unlocked {user.email}."
    return act(user_id, run)


@bp.post("/<int:user_id>/status")
@require_role("admin")
def set_status(user_id: int):
    status = request.form.get("status", "")

    def run(user):
        service.update_user(current_user, user, status=status)
        return f"{user.email} is now {status}."
    return act(user_id, run)


@bp.post("/<int:user_id>/role")
@require_role("admin")
def set_role(user_id: int):
    role = request.form.get("role", "")

    def run(user):
        service.update_user(current_user, user, role=role)
        return f"{user.email} is now {user.role}."
    return act(user_id, run)


@bp.post("/<int:user_id>/revoke-sessions")
@require_role("admin")
def revoke_sessions(user_id: int):
    def run(user):
        count = service.revoke_sessions(current_user, user)
        return f"Ended {count} session(s) of {user.email}."
    return act(user_id, run)


@bp.post("/<int:user_id>/sessions/<session_id>/revoke")
@require_role("admin")
def revoke_session(user_id: int, session_id: str):
    """End one session of a user; the id must belong to that user (docs/security.md §24)."""
    user = service.get_user(user_id)
    row = sessions.find(session_id)
    if row is None or row.user_id != user.id:
        abort(404)
    service.revoke_session(current_user, row)
    flash(f"Ended a {row.kind} session of {user.email}.", "info")
    return redirect(url_for("users.detail", user_id=user.id))


@bp.post("/<int:user_id>/invite")
@require_role("admin")
def resend_invite(user_id: int):
    def run(user):
        invites.resend(current_user, user)
        return f"Sent a new invitation to {user.email}; the earlier links no longer work."
    return act(user_id, run)
