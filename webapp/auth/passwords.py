"""bcrypt hashing with an explicit 72-byte limit, run at the lowest CPU priority.

bcrypt only reads 72 bytes; silently truncating would let two different passwords match.
bcrypt 5 raises on longer input, so we check first and answer with a clear error instead.

A bcrypt-12 check is a quarter of a second of pure CPU. bcrypt releases the GIL, so the cost
is not the GIL but the cores: twenty concurrent sign-ins would take every core from the
requests serving pages. So the hashing runs on a small pool of threads per process whose
Linux nice value is 19 (``setpriority`` on the thread's own id; lowering one's priority needs
no privilege): a page request preempts them, and sign-ins share what the pages leave.
"""
from __future__ import annotations

import contextlib
import functools
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import bcrypt

MAX_PASSWORD_BYTES = 72
HASHING_NICE = 19
_pools: dict[int, ThreadPoolExecutor] = {}  # by pid: a forked child never uses its parent's threads
_pools_lock = threading.Lock()
T = TypeVar("T")


def lower_this_threads_priority() -> None:
    """Give the calling thread the lowest CPU priority (Linux; a no-op where threads have no nice)."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), HASHING_NICE)


def hashing_pool() -> ThreadPoolExecutor:
    pid = os.getpid()
    with _pools_lock:
        if pid not in _pools:
            _pools[pid] = ThreadPoolExecutor(max_workers=os.cpu_count() or 2, thread_name_prefix="bcrypt",
                                             initializer=lower_this_threads_priority)
        return _pools[pid]


def off_the_request_thread(function: Callable[..., T], *args) -> T:
    """``function(*args)`` on the low-priority hashing pool; the caller waits for its result."""
    return hashing_pool().submit(function, *args).result()


class PasswordTooLong(ValueError):
    pass


def password_bytes(password: str) -> bytes:
    encoded = password.encode("utf-8")
    if len(encoded) > MAX_PASSWORD_BYTES:
        raise PasswordTooLong(f"Passwords can be at most {MAX_PASSWORD_BYTES} bytes long.")
    return encoded


def hash_password(password: str, rounds: int) -> str:
    return off_the_request_thread(bcrypt.hashpw, password_bytes(password), bcrypt.gensalt(rounds)).decode("ascii")


def verify_password(password: str, password_hash: str) -> bool:
    try:
        candidate = password_bytes(password)
    except PasswordTooLong:
        return False
    return off_the_request_thread(bcrypt.checkpw, candidate, password_hash.encode("ascii"))


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
