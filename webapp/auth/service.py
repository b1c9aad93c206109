"""Checking credentials. Free of ``request``: views and the API call the same function."""
from __future__ import annotations

from webapp.auth.passwords import verify_password
from webapp.users.models import User
from webapp.users.service import find_by_email


def authenticate(email: str, password: str) -> User | None:
    """Return the active user whose password matches, else None (never says which part failed)."""
    user = find_by_email(email)
    if user is None or not verify_password(password, user.password_hash) or not user.is_active:
        return None
    return user
