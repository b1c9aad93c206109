"""A small, bounded HTTP load for the fault tests: threads that trigger runs and read lists
against a live server until told to stop, keeping every status code (or error) they got."""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import requests

MAX_SECONDS = 120  # no load runs longer than this, whatever the caller forgets
PAUSE_SECONDS = 0.1  # between two requests of one thread: at most 10 requests/s per thread


@dataclass
class Load:
    base: str
    headers: dict[str, str]
    workflow: str | None = None  # trigger runs of it, one every ``trigger_every`` seconds, when set
    trigger_every: float = 0.6
    threads: int = 4
    statuses: Counter = field(default_factory=Counter)
    triggered: list[int] = field(default_factory=list)
    samples: list[tuple[float, int]] = field(default_factory=list)  # (monotonic time, status; 0 = no answer)

    def __post_init__(self) -> None:
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.next_trigger = time.monotonic()
        self.workers = [threading.Thread(target=self.drive, daemon=True) for n in range(self.threads)]

    def __enter__(self) -> Load:
        for thread in self.workers:
            thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopped.set()
        for thread in self.workers:
            thread.join(timeout=30)

    def drive(self) -> None:
        session = requests.Session()
        ends = time.monotonic() + MAX_SECONDS
        while not self.stopped.is_set() and time.monotonic() < ends:
            trigger = self.trigger_due()
            try:
                if trigger:
                    response = session.post(f"{self.base}/api/v3/workflows/{self.workflow}/runs", json={"params": {}},
                                            headers=self.headers, timeout=10)
                else:
                    response = session.get(f"{self.base}/api/v3/runs?limit=20", headers=self.headers, timeout=10)
                status = response.status_code
            except requests.RequestException:
                status = 0
            with self.lock:
                self.statuses[status] += 1
                self.samples.append((time.monotonic(), status))
                if trigger and status == 202:
                    self.triggered.append(response.json()["run"]["id"])
            time.sleep(PAUSE_SECONDS)

    def trigger_due(self) -> bool:
        with self.lock:
            if self.workflow is None or time.monotonic() < self.next_trigger:
                return False
            self.next_trigger += self.trigger_every
            return True
