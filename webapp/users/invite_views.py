"""``/invite/<token>``: where an invited user chooses their password.

GET only shows the form (a mail scanner opening the link must not spend it); POST spends the
token and sets the password, then the user signs in as usual.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from webapp.auth import ratelimit
from webapp.exceptions import InvalidInput
from webapp.security import public
from webapp.users import invites

bp = Blueprint("invites", __name__)
INVALID = "This invitation link is invalid, used or expired; ask an administrator for a new one."


@bp.route("/invite/<token>", methods=["GET", "POST"])
@public
def accept(token: str):
    if request.method == "GET":
        invite = invites.pending_invite(token)
        if invite is None:
            return render_template("users/accept_invite.html", invalid=INVALID), 400
        return render_template("users/accept_invite.html", email=invite.email)
    ratelimit.check("verify")
    password, confirm = request.form.get("password", ""), request.form.get("confirm", "")
    invite = invites.pending_invite(token)
    if invite is None:
        return render_template("users/accept_invite.html", invalid=INVALID), 400
    if password != confirm:
        return render_template("users/accept_invite.html", email=invite.email,
                               error="The two passwords differ."), 422
    try:
        user = invites.accept(token, password)
    except invites.InvalidInvite:
        return render_template("users/accept_invite.html", invalid=INVALID), 400
    except InvalidInput as error:
        return render_template("users/accept_invite.html", email=invite.email, error=error.message), 422
    flash(f"Your password is set. Sign in as {user.email}.", "info")
    return redirect(url_for("auth.login"))
