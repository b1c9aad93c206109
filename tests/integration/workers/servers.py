"""A private redis-server that a test can shut down and start again on the same port.

It keeps its data across the restart (``SHUTDOWN SAVE`` writes an RDB file into the test's own
directory), as a Redis restarted for maintenance or cut off by a network partition would. Only
this server is ever stopped; the shared one is never touched.
"""
from __future__ import annotations

import contextlib
import subprocess
import time
from pathlib import Path

from redis import Redis

from tests.integration.health_servers import LOCALHOST, free_port

START_SECONDS = 10.0


class RestartableRedis:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://{LOCALHOST}:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", LOCALHOST, "--save", "", "--appendonly", "no",
             "--dir", str(self.directory), "--dbfilename", "dump.rdb"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = Redis.from_url(self.url, socket_connect_timeout=0.5)
        deadline = time.monotonic() + START_SECONDS
        try:
            while True:
                with contextlib.suppress(Exception):
                    if client.ping():
                        return
                if time.monotonic() > deadline or self.process.poll() is not None:
                    raise RuntimeError(f"the private redis-server on port {self.port} did not start")
                time.sleep(0.05)
        finally:
            client.close()

    def shutdown(self) -> None:
        """Save the data and stop (``redis-cli shutdown save``); every client sees its connection drop."""
        subprocess.run(["redis-cli", "-p", str(self.port), "shutdown", "save"], capture_output=True, timeout=30)
        self.process.wait(timeout=30)
        self.process = None

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=30)
        self.process = None
