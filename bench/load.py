"""Load the runs list as a page and as API: req/s, p50, p99 and errors under 64 connections.

Creates its own database ``flowdeck_bench_<random>`` (dropped at the end), seeds ``--runs``
runs with ``flask seed-demo``'s code, starts gunicorn on 127.0.0.1 exactly as ``make run``
does (2 workers, gthread, 16 threads), signs an operator in through the login form (cookie)
and the API (bearer token), then drives ``/runs`` and ``/api/v3/runs`` in turn for
``--seconds`` each. The load comes from wrk (Debian's package; scripts/ensure_wrk.sh
installs it when run as root), else from a Python generator with one thread per connection,
which measures the same thing with more client overhead. The API's req/s is printed as a
ratio of the page's, measured in the same process: the target is 1.0 or more, with 0 errors.

Then the login phase: the ``/runs`` page's p95 over ``--page-connections`` connections for
``--login-seconds``, first idle, then while ``--logins`` clients sign in through
``POST /api/v3/auth/login`` back to back against a bcrypt-12 password hash (every user here
is created with BCRYPT_ROUNDS=12, production's minimum). Both phases use the Python generator,
so the ratio compares like with like: the target is 2.0 or less.

    .venv/bin/python bench/load.py [--seconds 15] [--connections 64] [--runs 500]
                                   [--logins 20] [--login-seconds 15] [--page-connections 4]

BENCH_DATABASE_URL names the PostgreSQL server (default: the local test server);
BENCH_REDIS_URL the Redis database (default db 6, flushed of nothing: only rate-limit keys).
"""
from __future__ import annotations

import argparse
import re
import shutil
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.scratch import scratch_environment  # noqa: E402

BIN = Path(sys.executable).parent
EMAIL, PASSWORD = "load@example.com", "bench load password"  # noqa: S105 (throwaway user and database)
WRK_LINE = {"rps": re.compile(r"Requests/sec:\s+([\d.]+)"), "p50": re.compile(r"^\s+50%\s+([\d.]+)(us|ms|s)", re.M),
            "p99": re.compile(r"^\s+99%\s+([\d.]+)(us|ms|s)", re.M)}
UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


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


def create_login_users(count: int) -> list[str]:
    """``count`` viewers sharing one bcrypt-12 hash of PASSWORD: one client each, since concurrent
    sign-ins to a single account would trip its lockout (each attempt is counted before its check)."""
    from sqlalchemy import update

    from webapp import create_app
    from webapp.auth.passwords import hash_password
    from webapp.extensions import db
    from webapp.users.models import User
    from webapp.users.service import create_user

    emails = [f"login-{index}@example.com" for index in range(count)]
    app = create_app()
    app.config["BCRYPT_ROUNDS"] = 4  # hashed once at 12 below, not once per user
    with app.app_context():
        for email in emails:
            create_user(email, PASSWORD)
        db.session.execute(update(User).where(User.email.in_(emails)).values(password_hash=hash_password(PASSWORD, 12)))
        db.session.commit()
    return emails


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
    return {"rps": len(samples) / seconds, "p50": cuts[49], "p95": cuts[94], "p99": cuts[98], "errors": errors[0]}


def sign_in_repeatedly(base: str, email: str, stop: threading.Event, durations: list[float], failures: Counter) -> None:
    """One client signing in again and again (each a bcrypt check on the server) until ``stop``;
    ``failures`` counts the answers other than 200 by status (0: no answer)."""
    session = requests.Session()
    while not stop.is_set():
        started = time.perf_counter()
        try:
            status = session.post(f"{base}/api/v3/auth/login", json={"email": email, "password": PASSWORD},
                                  timeout=120).status_code
        except requests.RequestException:
            status = 0
        durations.append(time.perf_counter() - started)
        if status != 200:
            failures[status] += 1


def login_pressure(base: str, page_headers: dict[str, str], args: argparse.Namespace) -> dict[str, float]:
    """The page's p95, idle and during ``args.logins`` concurrent sign-ins; their ratio."""
    page = f"{base}/runs"
    with_threads(page, page_headers, args.page_connections, 2)  # warm-up
    idle = with_threads(page, page_headers, args.page_connections, args.login_seconds)
    stop, durations, failures = threading.Event(), [], Counter()
    clients = [threading.Thread(target=sign_in_repeatedly, args=(base, email, stop, durations, failures))
               for email in create_login_users(args.logins)]
    for client in clients:
        client.start()
    try:
        time.sleep(2)  # every client is inside its first bcrypt check before the page is measured
        busy = with_threads(page, page_headers, args.page_connections, args.login_seconds)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=180)
    return {"idle_p95": idle["p95"], "busy_p95": busy["p95"], "ratio": busy["p95"] / idle["p95"],
            "page_errors": idle["errors"] + busy["errors"], "logins": len(durations), "login_failures": failures,
            "login_p50": statistics.median(durations) * 1000 if durations else 0.0}


def run(env: dict[str, str], args: argparse.Namespace) -> bool:
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
        logins = login_pressure(base, page_headers, args)
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"\n{'target':<20} {'req/s':>9} {'p50':>10} {'p99':>10} {'errors':>7}")
    for label, result in results.items():
        print(f"{label:<20} {result['rps']:9.1f} {result['p50']:8.1f}ms {result['p99']:8.1f}ms {result['errors']:7d}")
    ratio = results["API /api/v3/runs"]["rps"] / results["page /runs"]["rps"]
    errors = sum(result["errors"] for result in results.values())
    print(f"\nAPI req/s / page req/s = {ratio:.2f} (target >= 1.0); errors: {errors} (target 0)")
    print(f"\n/runs p95 over {args.page_connections} connections: idle {logins['idle_p95']:.1f} ms, during "
          f"{args.logins} concurrent bcrypt-12 logins {logins['busy_p95']:.1f} ms; ratio {logins['ratio']:.2f} "
          f"(target <= 2.0); {logins['logins']} logins (p50 {logins['login_p50']:.0f} ms, "
          f"failed: {dict(logins['login_failures']) or 'none'}), {logins['page_errors']} page errors")
    return ratio >= 1.0 and errors == 0 and logins["ratio"] <= 2.0 and logins["page_errors"] == 0 \
        and not logins["login_failures"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--runs", type=int, default=500)
    parser.add_argument("--logins", type=int, default=20)
    parser.add_argument("--login-seconds", type=int, default=15)
    parser.add_argument("--page-connections", type=int, default=4)
    args = parser.parse_args()
    with scratch_environment("redis://127.0.0.1:6379/6", BCRYPT_ROUNDS="12", FLOWDECK_ADMIN_PASSWORD=PASSWORD,
                             RATE_LIMIT_LOGIN="100000") as env:
        ok = run(env, args)
    print("targets met" if ok else "targets missed")


if __name__ == "__main__":
    main()
