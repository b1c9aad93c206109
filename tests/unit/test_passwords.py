import os
import threading

import bcrypt
import pytest

from webapp.auth.passwords import PasswordTooLong, hash_password, verify_password


def test_hash_verifies_and_is_bcrypt_with_the_given_cost():
    hashed = hash_password("s3cret passphrase", rounds=4)
    assert hashed.startswith("$2b$04$")
    assert verify_password("s3cret passphrase", hashed)
    assert not verify_password("s3cret passphrasf", hashed)


def test_password_over_72_bytes_is_rejected_not_truncated():
    with pytest.raises(PasswordTooLong):
        hash_password("é" * 37, rounds=4)  # 74 UTF-8 bytes


def test_verify_of_an_overlong_password_is_false_not_an_error():
    hashed = bcrypt.hashpw(b"a" * 72, bcrypt.gensalt(4)).decode()
    assert not verify_password("a" * 73, hashed)


def test_hashing_runs_on_threads_at_the_lowest_cpu_priority_not_on_the_callers():
    from webapp.auth.passwords import HASHING_NICE, off_the_request_thread

    def where() -> tuple[int, int]:
        return threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())

    thread, nice = off_the_request_thread(where)
    assert thread != threading.get_native_id()
    assert nice == HASHING_NICE
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < HASHING_NICE  # the caller keeps its own
