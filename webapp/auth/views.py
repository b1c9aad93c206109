"""Login and logout pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from webapp.auth.forms import LoginForm
from webapp.auth.service import authenticate
from webapp.security import public, require_role

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Email or password is incorrect."


def safe_next(target: str | None) -> str:
    """Only follow same-site relative paths after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("console.overview")


@bp.route("/login", methods=["GET", "POST"])
@public
def login():
    if current_user.is_authenticated:
        return redirect(url_for("console.overview"))
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(safe_next(request.args.get("next")))
        flash(GENERIC_FAILURE, "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form), 400 if form.errors else 200


@bp.route("/logout", methods=["POST"])
@require_role("viewer")
def logout():
    """POST only, and CSRFProtect has checked the token before we get here (SECURITY 13)."""
    logout_user()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))
