"""``flask users ...``: account chores that must work without the console."""
from __future__ import annotations

import os
import secrets

import click
from flask.cli import AppGroup

from webapp.extensions import db
from webapp.users import service

users_cli = AppGroup("users", help="Manage Flowdeck accounts.")


@users_cli.command("create-admin")
@click.option("--email", required=True, help="Email address of the admin account.")
@click.option("--name", default="Administrator", show_default=True)
def create_admin(email: str, name: str) -> None:
    """Create an admin; the password comes from FLOWDECK_ADMIN_PASSWORD or is generated.

    Running it again for an existing address changes nothing, so ``make run`` can call it on
    every start.
    """
    existing = service.find_by_email(email)
    if existing is not None:
        click.echo(f"User {existing.email} already exists ({existing.role}); nothing changed.")
        return
    password = os.environ.get("FLOWDECK_ADMIN_PASSWORD") or secrets.token_urlsafe(12)
    user = service.create_user(email, password, name=name, role="admin", status="active")
    db.session.commit()
    click.echo(f"Created admin {user.email}")
    if "FLOWDECK_ADMIN_PASSWORD" not in os.environ:
        click.echo(f"Generated password (shown once): {password}")
