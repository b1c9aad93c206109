"""``/mail``: the outbox, so admins can read (and pass on) mail when no MAIL_URL is set."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template

from webapp.mail.service import recent
from webapp.security import require_role

bp = Blueprint("mail", __name__, url_prefix="/mail")


@bp.get("")
@require_role("admin")
def outbox():
    return render_template("mail/outbox.html", mails=recent(), smtp=bool(current_app.config.get("MAIL_URL")))
