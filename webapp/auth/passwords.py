"""bcrypt hashing with an explicit 72-byte limit.

bcrypt only reads 72 bytes; silently truncating would let two different passwords match.
bcrypt 5 raises on longer input, so we check first and answer with a clear error instead.
"""
from __future__ import annotations

import functools
from pathlib import Path

import bcrypt

MAX_PASSWORD_BYTES = 72


class PasswordTooLong(ValueError):
    pass


def password_bytes(password: str) -> bytes:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(f"Passwords can be at most {MAX_PASSWORD_BYTES} bytes long.")
    return encoded


def hash_password(password: str, rounds: int) -> str:
    return bcrypt.hashpw(password_bytes(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    try:
        candidate = password_bytes(password)
    except PasswordTooLong:
        return False
    return bcrypt.checkpw(candidate, password_hash.encode("ascii"))


MIN_PASSWORD_CHARS = 8
COMMON_PASSWORDS_FILE = Path(__file__).with_name("data") / "common_passwords.txt"


@functools.lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def password_problem(password: str) -> str | None:
    """Why a new password is refused, or None: 8-72 bytes and not a common one; no composition rules."""
    if len(password) < MIN_PASSWORD_CHARS:
        return f"Passwords need at least {MIN_PASSWORD_CHARS} characters."
    if len(password.encode("utf-8")) > MAX_PASSWORD_BYTES:
        return f"Passwords can be at most {MAX_PASSWORD_BYTES} bytes long."
    if password.casefold() in common_passwords():
        return "This password is too common; choose another."
    return None
