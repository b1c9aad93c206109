"""``/account``: a user's profile, password change and own sessions (docs/security.md §18)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user

from webapp.auth import ratelimit, sessions
from webapp.auth.forms import PasswordChangeForm
from webapp.auth.identity import current_session
from webapp.auth.service import check_current_password
from webapp.exceptions import InvalidInput
from webapp.security import require_role
from webapp.users.service import change_password, revoke_session

bp = Blueprint("account", __name__, url_prefix="/account")


def render_account(form: PasswordChangeForm, status: int = 200):
    rows = sessions.live_sessions(current_user.id)
    return render_template("account/account.html", form=form, sessions=rows, here=current_session().id), status


@bp.get("")
@require_role("viewer")
def account():
    return render_account(PasswordChangeForm())


@bp.post("/password")
@require_role("viewer")
def password():
    ratelimit.check("password")
    form = PasswordChangeForm()
    if not form.validate_on_submit():
        return render_account(form, 422)
    if not check_current_password(current_user._get_current_object(), form.current_password.data):
        form.current_password.errors.append("The current password is not correct.")
        return render_account(form, 422)
    try:
        change_password(current_user, form.new_password.data, keep_session=current_session().id)
    except InvalidInput as error:
        form.new_password.errors.append(error.message)
        return render_account(form, 422)
    flash("Password changed. Your other sessions have been signed out.", "info")
    return redirect(url_for("account.account"))


@bp.post("/sessions/<session_id>/revoke")
@require_role("viewer")
def revoke(session_id: str):
    row = sessions.find(session_id)
    if row is None or row.user_id != current_user.id:
        abort(404)
    revoke_session(current_user, row)
    flash("Session ended.", "info")
    return redirect(url_for("auth.login") if row.id == current_session().id else url_for("account.account"))
