"""Request bodies of the accounts API; strict, so a password sent as a list is a 422, not a 500."""
from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from webapp.api.inputs import Body
from webapp.auth.passwords import MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARS, password_problem

Email = Annotated[str, Field(min_length=3, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")]
# Login accepts any string up to a sane size: an over-long password must get the generic 401.
AnyPassword = Annotated[str, Field(min_length=1, max_length=1024)]


def _acceptable(password: str) -> str:
    problem = password_problem(password)
    if problem:
        raise ValueError(problem)
    return password


# The schema states the limits JSON Schema can express; the byte limit and the common-password
# list are checked by password_problem and named in the description.
NewPassword = Annotated[str, Field(
    min_length=MIN_PASSWORD_CHARS, max_length=MAX_PASSWORD_BYTES,
    description=f"{MIN_PASSWORD_CHARS} characters to {MAX_PASSWORD_BYTES} UTF-8 bytes, not in the shipped list of "
                "common passwords; no composition rules."), AfterValidator(_acceptable)]
Name = Annotated[str, Field(max_length=200)]


class LoginBody(Body):
    email: Annotated[str, Field(min_length=1, max_length=320)]
    password: AnyPassword


class RegisterBody(Body):
    email: Email
    password: NewPassword
    name: Name = ""


class TokenBody(Body):
    token: Annotated[str, Field(min_length=1, max_length=200)]


class RefreshBody(Body):
    # Long enough that a JWT sent here by mistake gets the 401 of a wrong token, not a 422.
    refresh_token: Annotated[str, Field(min_length=1, max_length=4096)]


class EmailBody(Body):
    email: Annotated[str, Field(min_length=1, max_length=320)]

