"""Mail to the people who must act when Flowdeck disables a failing webhook.

The webhook's creator and every active admin get one message each (an address once), queued
in the mail outbox in the transaction that disables the endpoint, so the alert exists exactly
when the endpoint was disabled.
"""
from __future__ import annotations

from sqlalchemy import or_, select

from webapp.auth.registration import public_link
from webapp.events.webhooks.models import Webhook
from webapp.extensions import db
from webapp.mail.service import send
from webapp.users.models import User


def recipients(hook: Webhook) -> list[str]:
    """Active admins and the webhook's creator (if still active), each address once."""
    wanted = or_(User.role == "admin", User.id == hook.created_by)
    rows = db.session.scalars(select(User.email).where(wanted, User.status == "active").order_by(User.id))
    return list(dict.fromkeys(rows))


def mail_disabled(hook: Webhook) -> int:
    """Queue the alert for a webhook just disabled; returns how many messages were queued."""
    link = public_link("webhooks.detail", webhook_id=hook.id)
    body = (f"Flowdeck disabled the webhook {hook.id} ({hook.url}): {hook.disabled_reason}.\n\n"
            "No events are sent to it until an admin enables it again, and events that happen "
            "meanwhile are not delivered to it later.\n\n"
            f"The delivery log shows why the endpoint failed: {link}\n")
    addresses = recipients(hook)
    for address in addresses:
        send(address, f"Webhook {hook.id} disabled after repeated failures", body)
    return len(addresses)
