"""A private PostgreSQL cluster for the fault suite: made with ``pg_createcluster`` on a free port,
restarted by the tests that need it, dropped at the end. The shared cluster is never touched."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import psycopg

from tests.integration.health_servers import LOCALHOST, free_port

PG_ETC = Path("/etc/postgresql")


def newest_postgres_version() -> str:
    return max((path.name for path in PG_ETC.iterdir() if path.name.isdigit()), key=int)


class PostgresCluster:
    def __init__(self) -> None:
        self.version = newest_postgres_version()
        self.name = f"flowdeck-faults-{os.getpid()}"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@{LOCALHOST}:{self.port}/postgres"

    def ctl(self, action: str) -> None:
        subprocess.run(["pg_ctlcluster", self.version, self.name, action], check=True, capture_output=True,
                       timeout=60)

    def create(self) -> None:
        subprocess.run(["pg_createcluster", self.version, self.name, "-p", str(self.port), "--start-conf", "manual",
                        "-o", "fsync=off", "-o", "max_connections=200",
                        "--", "--auth-host=trust", "--auth-local=trust"], check=True, capture_output=True,
                       timeout=120)
        self.ctl("start")
        self.wait_until_up()

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                with psycopg.connect(f"host={LOCALHOST} port={self.port} user=postgres dbname=postgres",
                                     connect_timeout=1):
                    return
            except psycopg.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        self.ctl("stop")

    def start(self) -> None:
        self.ctl("start")
        self.wait_until_up()

    def drop(self) -> None:
        subprocess.run(["pg_dropcluster", "--stop", self.version, self.name], check=False, capture_output=True,
                       timeout=60)
