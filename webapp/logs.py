"""Logging that ties every line to what caused it.

Web lines carry the request id, job lines the RQ job id (and run id when the engine sets it).
Those ids live in one context variable, so any code can add a field with ``bind(...)`` and the
formatter never needs to know who set it. ``LOG_FORMAT=json`` gives one JSON object per line;
the text format escapes CR/LF so a value cannot forge a log line.
"""
from __future__ import annotations

import json
import logging
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import MappingProxyType

_context: ContextVar[Mapping[str, str]] = ContextVar("flowdeck_log_context", default=MappingProxyType({}))
CONTEXT_FIELDS = ("request_id", "job_id", "run_id")


@contextmanager
def bound(**fields: str) -> Iterator[None]:
    """Attach fields to every log line emitted inside the block."""
    token = _context.set({**_context.get(), **fields})
    try:
        yield
    finally:
        _context.reset(token)


def bind(**fields: str) -> None:
    """Attach fields for the rest of the current context (a request or a job)."""
    _context.set({**_context.get(), **fields})


def current(field: str) -> str | None:
    return _context.get().get(field)


def escape_newlines(text: str) -> str:
    return text.replace("\r", "\\r").replace("\n", "\\n")


class ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        context = _context.get()
        for field in CONTEXT_FIELDS:
            setattr(record, field, context.get(field, "-"))
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in CONTEXT_FIELDS:
            value = getattr(record, field, "-")
            if value != "-":
                entry[field] = value
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s job=%(job_id)s run=%(run_id)s] %(message)s"
        )

    def format(self, record: logging.LogRecord) -> str:
        return escape_newlines(super().format(record))


def configure_logging(log_format: str, level: str) -> None:
    """Install one stderr handler on the root logger (idempotent: replaces our own handler)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "flowdeck", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.flowdeck = True  # type: ignore[attr-defined]
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if log_format == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
