"""Bodies and filters of the admin user API."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, field_validator

from webapp.api.inputs import Body, Query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from webapp.auth.schemas import Email, Name, NewPassword

Role = Literal["viewer", "operator", "admin"]
Status = Literal["pending", "active", "inactive", "suspended"]
# A year: long enough for "until further notice" while keeping the date arithmetic sane.
MAX_LOCK_MINUTES = 525600


class UserCreateBody(Body):
    """With a password the account is active at once; without one the user is invited by mail
    to choose it (webapp/users/invites.py)."""

    email: Email
    name: Name = ""
    role: Role = "viewer"
    password: NewPassword | None = None

    @field_validator("password", mode="before")
    @classmethod
    def empty_is_unset(cls, value):
        return None if value == "" else value


class UserPatchBody(Body):
    name: Name | None = None
    role: Role | None = None
    status: Status | None = None


class LockBody(Body):
    minutes: Annotated[int, Field(ge=1, le=MAX_LOCK_MINUTES)] = 30
    reason: Annotated[str, Field(max_length=200)] = ""


class UserListQuery(Query):
    status: Status | None = None
    role: Role | None = None
    q: Annotated[str, Field(max_length=100)] | None = None
    cursor: Annotated[str, Field(max_length=200)] | None = None
    limit: Annotated[int, Field(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT
