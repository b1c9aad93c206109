"""Step kinds by name: built-ins plus any registered by plugin modules.

The registry is per process. Built-ins load on first use, so a worker, the web app and a
bare script all see the same kinds; ``load_plugins`` imports the modules named in the
``STEP_PLUGINS`` setting (each calls ``register`` at import) and is run by ``create_app``.
"""
from __future__ import annotations

import importlib
from collections.abc import Iterable

from webapp.steps.base import StepKind

BUILTIN_MODULES = (
    "webapp.steps.template_kind",
    "webapp.steps.http_kind",
    "webapp.steps.llm_kind",
    "webapp.steps.python_kind",
    "webapp.steps.control_kinds",
    "webapp.steps.memory_kinds",
    "webapp.steps.decompose_kind",
)

_kinds: dict[str, StepKind] = {}
_builtins_loaded = False


class UnknownStepKind(LookupError):
    """``get_kind`` was asked for a name nobody registered."""

    def __init__(self, name: str) -> None:
        known = ", ".join(sorted(_kinds)) or "none"
        super().__init__(f"unknown step kind {name!r} (known kinds: {known})")
        self.name = name


def register(kind: StepKind | type[StepKind]) -> StepKind | type[StepKind]:
    """Register a kind (instance or class; usable as a class decorator). Names are unique."""
    instance = kind() if isinstance(kind, type) else kind
    if not instance.name:
        raise ValueError(f"{type(instance).__name__} has no name")
    existing = _kinds.get(instance.name)
    if existing is not None and type(existing) is not type(instance):
        raise ValueError(f"step kind {instance.name!r} is already registered by {type(existing).__name__}")
    _kinds[instance.name] = instance
    return kind


def _ensure_builtins() -> None:
    global _builtins_loaded
    if not _builtins_loaded:
        _builtins_loaded = True
        for module in BUILTIN_MODULES:
            importlib.import_module(module)


def get_kind(name: str) -> StepKind:
    _ensure_builtins()
    try:
        return _kinds[name]
    except KeyError:
        raise UnknownStepKind(name) from None


def has_kind(name: str) -> bool:
    _ensure_builtins()
    return name in _kinds


def all_kinds() -> list[StepKind]:
    _ensure_builtins()
    return [_kinds[name] for name in sorted(_kinds)]


def load_plugins(modules: Iterable[str]) -> None:
    """Import each plugin module; a missing one stops the app at boot with its name."""
    _ensure_builtins()
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError as error:
            raise ImportError(f"STEP_PLUGINS names {module!r}, which cannot be imported: {error}") from error
