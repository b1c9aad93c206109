"""README screenshots: the Overview, a run page, the runs grid, the workflow editor, /costs and a phone-width
run page, from a seeded demo database.

``.venv/bin/python -m scripts.screenshots [--runs 400] [--out docs/screenshots]`` builds a
throwaway embedded instance (SQLite in a temporary directory, a private redis-server), runs the
migrations, creates an admin, fills it with ``flask seed-demo``, serves it with gunicorn next to
a worker, and has Chromium (Playwright, /usr/bin/chromium) sign in and capture PNGs. Nothing of
the developer's own ``instance/`` is touched, and everything started is stopped at the end.
"""
from __future__ import annotations

import argparse
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from scripts.run_local import ADMIN_EMAIL, ROOT, Supervisor, find_redis_server, free_port, wait_for_http, wait_for_port

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def demo_env(instance: Path) -> dict[str, str]:
    """The embedded default in ``instance``: no inherited database or Redis, fresh secrets."""
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "AMQP_URL")}
    return {**env, "FLOWDECK_ENV": "development", "FLOWDECK_INSTANCE_DIR": str(instance), "FLASK_APP": "wsgi",
            "SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET": secrets.token_urlsafe(48),
            "FLOWDECK_ADMIN_PASSWORD": secrets.token_urlsafe(12)}


def prepare(env: dict[str, str], runs: int) -> None:
    flask = [str(Path(sys.executable).parent / "flask")]
    for args in (["db", "upgrade"], ["users", "create-admin", "--email", ADMIN_EMAIL],
                 ["seed-demo", "--runs", str(runs)]):
        subprocess.run(flask + args, env=env, cwd=ROOT, check=True)


def capture(page: Page, base: str, password: str, out: Path) -> list[Path]:
    page.goto(f"{base}/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("health-summary").wait_for()
    shots = [out / "overview.png"]
    page.screenshot(path=shots[-1], full_page=True)

    page.goto(f"{base}/runs?status=failed")
    page.locator('tr[data-run] a[href^="/runs/"]').first.click()
    page.get_by_test_id("run-status").wait_for()
    run_url = page.url
    shots.append(out / "run.png")
    page.screenshot(path=shots[-1], full_page=True)

    slug = page.locator('a[href^="/runs?workflow="]').first.get_attribute("href").partition("=")[2]
    page.goto(f"{base}/workflows/{slug}/edit")  # the editor on the run's own workflow
    page.wait_for_load_state("networkidle")
    shots.append(out / "editor.png")
    page.screenshot(path=shots[-1], full_page=True)

    page.goto(f"{base}/runs")
    page.get_by_test_id("run-grid").wait_for()
    shots.append(out / "runs-grid.png")
    page.screenshot(path=shots[-1], full_page=False)

    page.set_viewport_size(PHONE)
    page.goto(run_url)
    page.get_by_test_id("run-status").wait_for()
    shots.append(out / "phone-run.png")
    page.screenshot(path=shots[-1], full_page=False)
    page.set_viewport_size(VIEWPORT)

    page.goto(f"{base}/costs?range=30d")  # two budgets, made through the page's own form
    for name, period, limit, policy in (("Daily LLM spend", "day", "0.05", "pause"),
                                        ("Monthly total", "month", "1.5", "alert")):
        form = page.get_by_test_id("new-budget")
        form.get_by_label("Name").fill(name)
        form.get_by_label("Period").select_option(period)
        form.get_by_label("Limit (USD)").fill(limit)
        form.get_by_label("At the limit").select_option(policy)
        form.get_by_role("button", name="Create budget").click()
        page.get_by_text("Budget created.").wait_for()
    page.goto(f"{base}/costs?range=30d")
    page.wait_for_load_state("networkidle")
    shots.append(out / "costs.png")
    page.screenshot(path=shots[-1], full_page=True)
    return shots


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    options = parser.parse_args()
    options.out.mkdir(parents=True, exist_ok=True)
    supervisor = Supervisor()
    with tempfile.TemporaryDirectory(prefix="flowdeck-shots-") as instance:
        env = demo_env(Path(instance))
        try:
            redis_port, web_port = free_port(), free_port()
            supervisor.start("redis", [find_redis_server(), "--bind", "127.0.0.1", "--port", str(redis_port),
                                       "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction"], env)
            wait_for_port(redis_port, 10)
            env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
            prepare(env, options.runs)
            bin_dir = Path(sys.executable).parent
            supervisor.start("worker", [str(bin_dir / "flask"), "worker"], env)
            supervisor.start("console", [str(bin_dir / "gunicorn"), "--bind", f"127.0.0.1:{web_port}",
                                         "--workers", "2", "wsgi:app"], env)
            base = f"http://127.0.0.1:{web_port}"
            wait_for_http(f"{base}/api/v3/health/live", 30)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
                page = browser.new_page(viewport=VIEWPORT)
                for shot in capture(page, base, env["FLOWDECK_ADMIN_PASSWORD"], options.out):
                    print(f"wrote {shot.relative_to(ROOT) if shot.is_relative_to(ROOT) else shot}", flush=True)
                browser.close()
        finally:
            supervisor.stop_all()
    return 0


if __name__ == "__main__":
    sys.exit(main())
