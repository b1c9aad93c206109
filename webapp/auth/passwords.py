"""bcrypt hashing with an explicit 72-byte limit.

bcrypt only reads 72 bytes; silently truncating would let two different passwords match.
bcrypt 5 raises on longer input, so we check first and answer with a clear error instead.
"""
from __future__ import annotations

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
