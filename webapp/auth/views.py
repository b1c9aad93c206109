"""Login, logout, registration and email verification pages."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user

from webapp.audit.context import client_ip, user_agent
from webapp.auth import ratelimit, registration
from webapp.auth.forms import LoginForm, RegisterForm
from webapp.auth.identity import COOKIE_KEY, current_session
from webapp.auth.service import authenticate, sign_in
from webapp.auth.service import logout as logout_session
from webapp.exceptions import Conflict, DomainError
from webapp.security import public, require_role

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "Email or password is incorrect."
VERIFY_FIRST = "Verify your email address first: open the link we sent you."


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
    if request.method == "POST":
        ratelimit.check("login")
    if form.validate_on_submit():
        result = authenticate(form.email.data, form.password.data)
        if result.ok:
            # A new server-side session and a cleared cookie: nothing from before login survives.
            session.clear()
            _, secret = sign_in(result.user, "browser", ip=client_ip(), user_agent=user_agent())
            login_user(result.user)
            session[COOKIE_KEY] = secret
            return redirect(safe_next(request.args.get("next")))
        flash(VERIFY_FIRST if result.reason == "pending" else GENERIC_FAILURE, "error")
        return render_template("auth/login.html", form=form, can_register=can_register()), 401
    status = 400 if form.errors else 200
    return render_template("auth/login.html", form=form, can_register=can_register()), status


@bp.route("/logout", methods=["POST"])
@require_role("viewer")
def logout():
    """POST only, and CSRFProtect has checked the token before we get here (docs/security.md §13)."""
    logout_session(current_user, current_session())
    logout_user()
    session.clear()
    flash("You have been signed out.", "info")
    return redirect(url_for("auth.login"))


def can_register() -> bool:
    return current_app.config["REGISTRATION_MODE"] != "closed"


@bp.route("/register", methods=["GET", "POST"])
@public
def register():
    if not can_register():
        abort(404)
    form = RegisterForm()
    if request.method == "POST":
        ratelimit.check("register")
    if form.validate_on_submit():
        try:
            user = registration.register(form.email.data, form.password.data, form.name.data or "")
        except Conflict as error:
            form.email.errors.append(error.message)
        else:
            if user is None or user.status == "pending":
                flash("Check your mail: open the link we sent you to activate the account.", "info")
            else:
                flash("Account created. You can sign in now.", "info")
            return redirect(url_for("auth.login"))
    status = 422 if form.errors else 200
    return render_template("auth/register.html", form=form), status


@bp.route("/verify-email/<token>", methods=["GET", "POST"])
@public
def verify_email_page(token: str):
    """GET only shows a button: mail scanners that open links must not spend the token."""
    if request.method == "GET":
        return render_template("auth/verify_email.html")
    ratelimit.check("verify")
    try:
        registration.verify_email(token[:200])
    except DomainError as error:
        flash(error.message, "error")
        return render_template("auth/login.html", form=LoginForm(), can_register=can_register()), 400
    flash("Your email address is verified. You can sign in now.", "info")
    return redirect(url_for("auth.login"))
