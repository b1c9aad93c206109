"""Creating and finding users; used by the CLI, the views and the API alike."""
from __future__ import annotations

from flask import current_app
from sqlalchemy import select

from webapp.auth.passwords import hash_password
from webapp.extensions import db
from webapp.users.models import User, normalize_email


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalize_email(email)))


def create_user(email: str, password: str, *, name: str = "", role: str = "viewer", status: str = "active") -> User:
    user = User(
        email=normalize_email(email),
        name=name,
        role=role,
        status=status,
        password_hash=hash_password(password, current_app.config["BCRYPT_ROUNDS"]),
    )
    db.session.add(user)
    db.session.flush()
    return user
