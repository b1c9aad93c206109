"""The log lines a step writes while it runs, kept with its attempt (``step_attempts.logs``).

``capture()`` binds a handler to the root logger around one attempt's execution and keeps the
records emitted by the thread running the step, at the level logging lets through
(``LOG_LEVEL``). The capture is bounded: each message is cut to ``MAX_MESSAGE_CHARS``, and at
most ``MAX_LINES`` lines and ``MAX_BYTES`` of JSON are kept; a last line counts what was left
out. ``save()`` writes them onto the attempt row; an attempt that logged nothing writes nothing.
"""
from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import DBAPIError

from webapp.extensions import db
from webapp.formatting import iso
from webapp.runs.models import StepAttempt

log = logging.getLogger(__name__)
MAX_LINES = 200
MAX_MESSAGE_CHARS = 1_000
MAX_BYTES = 32_768


class AttemptLogHandler(logging.Handler):
    """Keeps, within the bounds, the records of the one thread that runs the attempt."""

    def __init__(self) -> None:
        super().__init__()
        self.thread = threading.get_ident()
        self.lines: list[dict[str, Any]] = []
        self.size = 0
        self.dropped = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread != self.thread:
            return
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not format is counted, never raised
            self.dropped += 1
            return
        if record.exc_info and record.exc_info[1] is not None:
            message += f" ({type(record.exc_info[1]).__name__}: {record.exc_info[1]})"
        line = {"ts": iso(datetime.fromtimestamp(record.created, UTC)), "level": record.levelname.lower(),
                "logger": record.name, "message": message[:MAX_MESSAGE_CHARS]}
        size = len(json.dumps(line))
        if len(self.lines) >= MAX_LINES or self.size + size > MAX_BYTES:
            self.dropped += 1
            return
        self.lines.append(line)
        self.size += size

    def captured(self) -> list[dict[str, Any]] | None:
        if not self.lines and not self.dropped:
            return None
        if not self.dropped:
            return self.lines
        return [*self.lines, {"ts": self.lines[-1]["ts"] if self.lines else None, "level": "warning",
                              "logger": __name__, "message": f"{self.dropped} more line(s) not kept"}]


@contextmanager
def capture() -> Iterator[AttemptLogHandler]:
    handler = AttemptLogHandler()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def save(step_run_id: int, attempt: int, handler: AttemptLogHandler) -> None:
    """Store the captured lines on the attempt (own transaction); losing them never fails the step."""
    lines = handler.captured()
    if lines is None:
        return
    try:
        db.session.execute(update(StepAttempt).where(StepAttempt.step_run_id == step_run_id,
                                                     StepAttempt.attempt == attempt).values(logs=lines))
        db.session.commit()
    except DBAPIError as error:
        db.session.rollback()
        log.warning("the log lines of step run %s attempt %s were not saved (%s)", step_run_id, attempt,
                    str(error.orig or error).splitlines()[0])
