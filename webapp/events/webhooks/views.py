"""``/webhooks``: admin pages for endpoints, their delivery log, ping, rotation and redelivery.

Plain form posts with a redirect back (the secret is shown once, on the page the create or
rotate redirects to, through a one-time flash), the same service calls as the API.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user

from webapp.events.webhooks import service
from webapp.exceptions import DomainError
from webapp.security import require_role

bp = Blueprint("webhooks", __name__, url_prefix="/webhooks")
PAGE_SIZE = 50


def form_patterns() -> list[str]:
    return [item.strip() for item in request.form.get("events", "").replace("\n", ",").split(",") if item.strip()]


def form_text(name: str, limit: int) -> str:
    return request.form.get(name, "").replace("\x00", "").strip()[:limit]


@bp.get("")
@require_role("admin")
def index():
    return render_template("webhooks/index.html", hooks=service.list_webhooks(), form={})


@bp.post("")
@require_role("admin")
def create():
    form = {"url": form_text("url", 2000), "events": form_text("events", 2000),
            "description": form_text("description", 2000)}
    try:
        hook = service.create(current_user, form["url"], form_patterns(), form["description"])
    except DomainError as error:
        flash(error.message, "error")
        return render_template("webhooks/index.html", hooks=service.list_webhooks(), form=form), 422
    flash(f"Webhook created. Its signing secret, shown only now: {hook.secret}", "secret")
    return redirect(url_for("webhooks.detail", webhook_id=hook.id))


@bp.get("/<int:webhook_id>")
@require_role("admin")
def detail(webhook_id: int):
    hook = service.get_webhook(webhook_id)
    before = request.args.get("before", "")
    rows = service.deliveries(hook.id, int(before) if before.isdecimal() and len(before) < 12 else None, PAGE_SIZE)
    shown = rows[:PAGE_SIZE]
    attempts = service.attempts_of([row.id for row in shown])
    older = shown[-1].id if len(rows) > PAGE_SIZE else None
    return render_template("webhooks/detail.html", hook=hook, deliveries=shown, attempts=attempts, older=older)


def act(webhook_id: int, action, message: str):
    try:
        result = action()
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash(message.format(result=result), "secret" if "secret" in message else "info")
    return redirect(url_for("webhooks.detail", webhook_id=webhook_id))


@bp.post("/<int:webhook_id>/update")
@require_role("admin")
def update(webhook_id: int):
    changes = {"url": form_text("url", 2000), "events": form_patterns(), "description": form_text("description", 2000),
               "active": request.form.get("active") == "on"}
    return act(webhook_id, lambda: service.update(current_user, webhook_id, changes), "Webhook saved.")


@bp.post("/<int:webhook_id>/rotate-secret")
@require_role("admin")
def rotate_secret(webhook_id: int):
    return act(webhook_id, lambda: service.rotate_secret(current_user, webhook_id).secret,
               "New signing secret, shown only now (the old one keeps signing for 24 hours): {result}")


@bp.post("/<int:webhook_id>/ping")
@require_role("admin")
def ping(webhook_id: int):
    return act(webhook_id, lambda: service.ping(current_user, webhook_id).id, "Ping queued as delivery {result}.")


@bp.post("/<int:webhook_id>/redeliver")
@require_role("admin")
def redeliver(webhook_id: int):
    ids = [int(value) for value in request.form.getlist("delivery") if value.isdecimal() and len(value) < 12]
    if not ids:
        flash("Choose at least one delivery to send again.", "error")
        return redirect(url_for("webhooks.detail", webhook_id=webhook_id))
    return act(webhook_id, lambda: len(service.redeliver(current_user, ids, webhook_id)),
               "{result} deliveries queued again.")


@bp.post("/<int:webhook_id>/delete")
@require_role("admin")
def delete(webhook_id: int):
    try:
        service.delete(current_user, webhook_id)
    except DomainError as error:
        flash(error.message, "error")
    else:
        flash("Webhook deleted.", "info")
    return redirect(url_for("webhooks.index"))
