"""``flask users ...``: account chores that must work without the console."""
from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager

import click
from flask.cli import AppGroup

from webapp.exceptions import DomainError
from webapp.extensions import db
from webapp.users import service
from webapp.users.models import ROLES

users_cli = AppGroup("users", help="Manage Flowdeck accounts.")


@contextmanager
def plain_errors() -> Iterator[None]:
    """Show a service's refusal (unknown email, last admin) as a one-line error, exit status 1."""
    try:
        yield
    except DomainError as error:
        raise click.ClickException(error.message) from None


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


@users_cli.command("unlock")
@click.argument("email")
def unlock(email: str) -> None:
    """Clear a lockout and the failure counter (audited with no actor: the CLI is the operator)."""
    with plain_errors():
        user = service.get_by_email(email)
        service.unlock(None, user)
    click.echo(f"Unlocked {user.email}.")


@users_cli.command("activate")
@click.argument("email")
def activate(email: str) -> None:
    """Make a pending, inactive or suspended account active."""
    with plain_errors():
        user = service.get_by_email(email)
        service.update_user(None, user, status="active")
    click.echo(f"{user.email} is active.")


@users_cli.command("set-role")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLES))
def set_role(email: str, role: str) -> None:
    """Change a user's role; their sessions end so the new role applies at once."""
    with plain_errors():
        user = service.get_by_email(email)
        service.update_user(None, user, role=role)
    click.echo(f"{user.email} is now {role}.")
