"""Dependencies that misbehave on purpose, all on 127.0.0.1 and owned by the test that starts them.

A refused port, a listener that accepts and never answers (a hung dependency), a private
redis-server with a chosen config, and a TCP proxy a test can stop and restart.
"""
from __future__ import annotations

import contextlib
import socket
import subprocess
import threading
import time
from collections.abc import Iterator

from redis import Redis

LOCALHOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOCALHOST, 0))
        return sock.getsockname()[1]


def refused_port() -> int:
    """A port nothing listens on (it was free a moment ago)."""
    return free_port()


def close_listener(server: socket.socket) -> None:
    """Close a listening socket for good: a bare close() does not wake a thread blocked in accept()."""
    with contextlib.suppress(OSError):
        server.shutdown(socket.SHUT_RDWR)
    server.close()


class HungListener:
    """Accepts every connection, reads nothing, answers nothing, until stopped."""

    def __init__(self) -> None:
        self.server = socket.create_server((LOCALHOST, 0))
        self.port = self.server.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self.thread = threading.Thread(target=self.accept_forever, daemon=True)

    def accept_forever(self) -> None:
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.accepted.append(conn)

    def __enter__(self) -> HungListener:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        close_listener(self.server)
        for conn in self.accepted:
            conn.close()
        self.thread.join(timeout=5)


class TcpProxy:
    """Forwards a local port to ``target``; ``stop`` refuses and cuts connections, ``start`` resumes."""

    def __init__(self, target_port: int, port: int | None = None) -> None:
        self.target_port = target_port
        self.port = port or free_port()
        self.server: socket.socket | None = None
        self.connections: list[socket.socket] = []
        self.lock = threading.Lock()

    def start(self) -> None:
        self.server = socket.create_server((LOCALHOST, self.port))
        threading.Thread(target=self.accept_forever, args=(self.server,), daemon=True).start()

    def stop(self) -> None:
        if self.server is not None:
            close_listener(self.server)
            self.server = None
        with self.lock:
            for conn in self.connections:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            self.connections.clear()

    def accept_forever(self, server: socket.socket) -> None:
        while True:
            try:
                client, _ = server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection((LOCALHOST, self.target_port), timeout=2)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pipe, args=(source, sink), daemon=True).start()

    @staticmethod
    def pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                sink.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def private_redis(*config: str) -> Iterator[str]:
    """A redis-server of our own (never the shared one), e.g. ``private_redis("--maxmemory-policy", "allkeys-lru")``."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", LOCALHOST, "--save", "",
                                "--appendonly", "no", *config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://{LOCALHOST}:{port}/0"
    try:
        client = Redis.from_url(url, socket_connect_timeout=0.5)
        for _ in range(100):
            with contextlib.suppress(Exception):
                if client.ping():
                    break
            time.sleep(0.05)
        client.close()
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
