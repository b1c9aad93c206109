"""Gunicorn hooks for prometheus_client's multiprocess mode: ``gunicorn -c python:webapp.metrics.gunicorn_conf``.

Every gunicorn worker writes its counters and histograms to files under
``PROMETHEUS_MULTIPROC_DIR`` and ``/metrics`` sums them. Files left by a previous start would be
summed too (counters that jump at a restart, gauges of processes long gone), so the directory is
emptied when the master starts; a worker that exits is marked dead so its live gauges go away
(its counters stay in the sum, as they should). The directory is emptied, not removed: in
Kubernetes it is a mounted ``emptyDir``. Without the variable these hooks do nothing and each
process serves only its own figures, which is right for a single process.

Graceful shutdown: on SIGTERM the master stops accepting and gives in-flight requests
``graceful_timeout`` seconds; the default here matches the web Deployment's grace period.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import multiprocess

graceful_timeout = 25
worker_class = "gthread"
threads = 8


def metrics_dir() -> Path | None:
    raw = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "").strip()
    return Path(raw) if raw else None


def on_starting(server) -> None:
    path = metrics_dir()
    if path is None:
        return
    path.mkdir(parents=True, exist_ok=True)
    for entry in path.iterdir():
        if entry.is_dir():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def child_exit(server, worker) -> None:
    if metrics_dir() is not None:
        multiprocess.mark_process_dead(worker.pid)
