"""Sending mail: every message lands in the outbox; with ``MAIL_URL`` it also goes out by SMTP.

Without a mail server the outbox is the delivery channel (an admin reads it in the console),
which is why a verification mail body holds its link there. Such links are single-use and
expire (docs/security.md §10), so an old outbox row is worthless once used or expired.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import select

from webapp.clock import utcnow
from webapp.extensions import db
from webapp.mail.models import OutboxMail

log = logging.getLogger(__name__)
SMTP_TIMEOUT_SECONDS = 10
SENDER = "flowdeck@localhost"


def send(recipient: str, subject: str, body: str) -> OutboxMail:
    """Queue a message in the caller's transaction, and deliver it now when SMTP is configured."""
    mail = OutboxMail(recipient=recipient, subject=subject, body=body)
    db.session.add(mail)
    if current_app.config.get("MAIL_URL"):
        deliver(mail, current_app.config["MAIL_URL"])
    return mail


def deliver(mail: OutboxMail, url: str) -> None:
    parts = urlsplit(url)
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = SENDER, mail.recipient, mail.subject
    message.set_content(mail.body)
    try:
        with smtplib.SMTP(parts.hostname, parts.port or 25, timeout=SMTP_TIMEOUT_SECONDS) as smtp:
            if parts.username:
                smtp.login(parts.username, parts.password or "")
            smtp.send_message(message)
        mail.sent_at = utcnow()
    except (OSError, smtplib.SMTPException) as error:
        log.warning("mail to %s could not be sent (%s); it stays in the outbox", mail.recipient, type(error).__name__)
        mail.error = type(error).__name__


def recent(limit: int = 50) -> list[OutboxMail]:
    return list(db.session.scalars(select(OutboxMail).order_by(OutboxMail.id.desc()).limit(limit)))
