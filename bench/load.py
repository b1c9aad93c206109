"""Load the runs list as a page and as API: req/s, p50, p99 and errors under 64 connections.

Creates its own database ``flowdeck_bench_<random>`` (dropped at the end), seeds ``--runs``
runs with ``flask seed-demo``'s code, starts gunicorn on 127.0.0.1 exactly as ``make run``
does (2 workers, gthread, 16 threads), signs an operator in through the login form (cookie)
and the API (bearer token), then drives ``/runs`` and ``/api/v3/runs`` in turn for
``--seconds`` each. The load comes from wrk (Debian's package; scripts/ensure_wrk.sh
installs it when run as root), else from a Python generator with one thread per connection,
which measures the same thing with more client overhead. The API's req/s is printed as a
ratio of the page's, measured in the same process: the target is 1.0 or more, with 0 errors.

    .venv/bin/python bench/load.py [--seconds 15] [--connections 64] [--runs 500]

BENCH_DATABASE_URL names the PostgreSQL server (default: the local test server);
BENCH_REDIS_URL the Redis database (default db 6, flushed of nothing: only rate-limit keys).
"""
from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg
import requests
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
SERVER = make_url(os.environ.get("BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"))
EMAIL, PASSWORD = "load@example.com", "bench load password"  # noqa: S105 (throwaway user and database)
WRK_LINE = {"rps": re.compile(r"Requests/sec:\s+([\d.]+)"), "p50": re.compile(r"^\s+50%\s+([\d.]+)(us|ms|s)", re.M),
            "p99": re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)", re.M)}
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def admin_dsn() -> str:
    return SERVER.set(drivername="postgresql").render_as_string(hide_password=False)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(env: dict[str, str], runs: int) -> None:
    """Migrate, seed and create the operator, each in its own ``flask`` process."""
    flask = [str(BIN / "flask")]
    for command in (["db", "upgrade"], ["seed-demo", "--runs", str(runs)],
                    ["users", "create-admin", "--email", EMAIL]):
        subprocess.run(flask + command, cwd=ROOT, env=env, check=True, capture_output=True)


def start_gunicorn(env: dict[str, str], port: int) -> subprocess.Popen:
    server = subprocess.Popen([str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2",
                               "--worker-class", "gthread", "--threads", "16", "wsgi:app"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            requests.get(f"http://127.0.0.1:{port}/api/v3/health/live", timeout=1)
            return server
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise RuntimeError("gunicorn did not start")


def credentials(base: str) -> tuple[dict[str, str], dict[str, str]]:
    """Headers for the page (session cookie) and for the API (bearer token)."""
    browser = requests.Session()
    page = browser.get(f"{base}/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    signed_in = browser.post(f"{base}/login", data={"email": EMAIL, "password": PASSWORD, "csrf_token": token},
                             allow_redirects=False)
    assert signed_in.status_code == 302, signed_in.status_code
    cookie = "; ".join(f"{name}={value}" for name, value in browser.cookies.items())
    access = requests.post(f"{base}/api/v3/auth/login", json={"email": EMAIL, "password": PASSWORD}, timeout=10).json()
    return {"Cookie": cookie}, {"Authorization": f"Bearer {access['access_token']}"}


def with_wrk(url: str, headers: dict[str, str], connections: int, seconds: int) -> dict[str, float]:
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        command += ["-H", f"{name}: {value}"]
    out = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    result = {"rps": float(WRK_LINE["rps"].search(out).group(1))}
    for key in ("p50", "p99"):
        number, unit = WRK_LINE[key].search(out).groups()
        result[key] = float(number) * UNIT_MS[unit]
    bad = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    result["errors"] = (int(bad.group(1)) if bad else 0) + (sum(map(int, socket_errors.groups())) if socket_errors
                                                          else 0)
    return result


def with_threads(url: str, headers: dict[str, str], connections: int, seconds: int) -> dict[str, float]:
    """One keep-alive connection per thread, for machines without wrk."""
    samples: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def drive() -> None:
        session, mine, failed = requests.Session(), [], 0
        while time.monotonic() < stop_at:
            started = time.perf_counter()
            try:
                ok = session.get(url, headers=headers, timeout=10, allow_redirects=False).status_code < 400
            except requests.RequestException:
                ok = False
            mine.append((time.perf_counter() - started) * 1000)
            failed += not ok
        with lock:
            samples.extend(mine)
            errors[0] += failed

    threads = [threading.Thread(target=drive) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {"rps": len(samples) / seconds, "p50": cuts[49], "p99": cuts[98], "errors": errors[0]}


def run(database_url: str, args: argparse.Namespace) -> bool:
    env = {**os.environ, "FLOWDECK_ENV": "test", "FLOWDECK_INSTANCE_DIR": tempfile.mkdtemp(prefix="flowdeck-load-"),
           "DATABASE_URL": database_url, "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/6"),
           "AMQP_URL": "", "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET": secrets.token_urlsafe(48),
           "BCRYPT_ROUNDS": "4", "LOG_LEVEL": "warning", "FLASK_APP": "wsgi", "RECONCILE_INTERVAL_SECONDS": "0",
           "FLOWDECK_ADMIN_PASSWORD": PASSWORD, "RATE_LIMIT_LOGIN": "100000"}
    prepare(env, args.runs)
    port = free_port()
    server = start_gunicorn(env, port)
    base = f"http://127.0.0.1:{port}"
    drive = with_wrk if shutil.which("wrk") else with_threads
    try:
        page_headers, api_headers = credentials(base)
        targets = [("page /runs", f"{base}/runs", page_headers), ("API /api/v3/runs", f"{base}/api/v3/runs",
                                                                  api_headers)]
        print(f"{args.runs} runs seeded; {args.connections} connections, {args.seconds} s per target, "
              f"load from {'wrk' if drive is with_wrk else 'Python threads'}")
        results = {}
        for label, url, headers in targets:
            drive(url, headers, args.connections, 2)  # warm-up: pools, caches, compiled templates
            results[label] = drive(url, headers, args.connections, args.seconds)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{'target':<20} {'req/s':>9} {'p50':>10} {'p99':>10} {'errors':>7}")
    for label, result in results.items():
        print(f"{label:<20} {result['rps']:9.1f} {result['p50']:8.1f}ms {result['p99']:8.1f}ms {result['errors']:7d}")
    ratio = results["API /api/v3/runs"]["rps"] / results["page /runs"]["rps"]
    errors = sum(result["errors"] for result in results.values())
    print(f"\nAPI req/s / page req/s = {ratio:.2f} (target >= 1.0); errors: {errors} (target 0)")
    return ratio >= 1.0 and errors == 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--runs", type=int, default=500)
    args = parser.parse_args()
    name = f"flowdeck_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin_dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        ok = run(SERVER.set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False), args)
    finally:
        with psycopg.connect(admin_dsn(), autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print("targets met" if ok else "targets missed")


if __name__ == "__main__":
    main()
