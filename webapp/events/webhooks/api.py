"""``/api/v3/webhooks``: admin management of webhook endpoints and their delivery log."""
from __future__ import annotations

from typing import Annotated

from flask import Blueprint, jsonify
from flask_login import current_user
from pydantic import Field

from webapp.api.inputs import Body, DbId, Query, parse_body, parse_query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT, decode_cursor, page, row_id
from webapp.events.webhooks import service
from webapp.security import require_role

bp = Blueprint("webhooks_api", __name__, url_prefix="/webhooks")

Url = Annotated[str, Field(min_length=1, max_length=2000)]
Patterns = Annotated[list[Annotated[str, Field(max_length=100)]], Field(min_length=1, max_length=50)]
Description = Annotated[str, Field(max_length=2000)]


class WebhookCreateBody(Body):
    url: Url
    events: Patterns
    description: Description = ""


class WebhookPatchBody(Body):
    url: Url | None = None
    events: Patterns | None = None
    description: Description | None = None
    active: bool | None = None


class DeliveriesQuery(Query):
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT


class RedeliverBody(Body):
    """Optional: more deliveries to send again along with the one in the path."""

    also: Annotated[list[DbId], Field(max_length=200)] = []


def one(hook, secret: bool = False):
    return jsonify({"webhook": service.to_dict(hook, secret=secret)})


@bp.get("")
@require_role("admin")
def list_webhooks():
    return jsonify({"items": [service.to_dict(hook) for hook in service.list_webhooks()], "next_cursor": None})


@bp.post("")
@require_role("admin")
def create_webhook():
    """Create an endpoint; the answer is the only time its secret is shown (until rotation)."""
    body = parse_body(WebhookCreateBody)
    hook = service.create(current_user, body.url, body.events, body.description)
    return one(hook, secret=True), 201


@bp.get("/<int:webhook_id>")
@require_role("admin")
def get_webhook(webhook_id: int):
    return one(service.get_webhook(webhook_id))


@bp.patch("/<int:webhook_id>")
@require_role("admin")
def update_webhook(webhook_id: int):
    body = parse_body(WebhookPatchBody)
    return one(service.update(current_user, webhook_id, body.model_dump(exclude_none=True)))


@bp.delete("/<int:webhook_id>")
@require_role("admin")
def delete_webhook(webhook_id: int):
    service.delete(current_user, webhook_id)
    return "", 204


@bp.post("/<int:webhook_id>/rotate-secret")
@require_role("admin")
def rotate_secret(webhook_id: int):
    """A new secret; the old one keeps signing alongside it for 24 hours."""
    return one(service.rotate_secret(current_user, webhook_id), secret=True)


@bp.post("/<int:webhook_id>/ping")
@require_role("admin")
def ping(webhook_id: int):
    """Send a ``webhook.ping`` message once (no retries)."""
    delivery = service.ping(current_user, webhook_id)
    return jsonify({"delivery": service.delivery_to_dict(delivery)}), 202


@bp.get("/<int:webhook_id>/deliveries")
@require_role("admin")
def list_deliveries(webhook_id: int):
    """The delivery log, newest first, each with its attempts."""
    query = parse_query(DeliveriesQuery)
    before = decode_cursor(query.cursor, (row_id,))[0] if query.cursor else None
    rows = service.deliveries(webhook_id, before, query.limit)
    attempts = service.attempts_of([row.id for row in rows[:query.limit]])
    return jsonify(page(rows, query.limit, lambda row: [row.id],
                        lambda row: service.delivery_to_dict(row, attempts[row.id])))


@bp.post("/deliveries/<int:delivery_id>/redeliver")
@require_role("admin")
def redeliver(delivery_id: int):
    """Send a delivery again (same ``webhook-id``); ``also`` adds more deliveries to the batch."""
    body = parse_body(RedeliverBody)
    copies = service.redeliver(current_user, [delivery_id, *body.also])
    return jsonify({"items": [service.delivery_to_dict(copy) for copy in copies]}), 202
