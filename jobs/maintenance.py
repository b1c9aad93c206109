"""Jobs that check the plumbing rather than do product work."""
from __future__ import annotations

import logging
import os

from flask import current_app
from rq import get_current_job

log = logging.getLogger(__name__)


def ping(note: str = "") -> dict[str, str | int]:
    """Answer from inside a worker with what it sees: proves queue, worker and app config agree."""
    job = get_current_job()
    log.info("ping %r answered by worker pid %s", note, os.getpid())
    return {
        "note": note,
        "pid": os.getpid(),
        "job_id": job.id if job else "",
        "environment": current_app.config["FLOWDECK_ENV"],
        "database": current_app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0],
    }
