"""Small helpers shared by the accounts tests (login over the API and the form, threads)."""
from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from tests.conftest import TEST_PASSWORD, csrf_token_from
from webapp.audit.models import AuditEvent
from webapp.extensions import db


def api_login(client, email: str, password: str = TEST_PASSWORD, **kwargs):
    return client.post("/api/v3/auth/login", json={"email": email, "password": password}, **kwargs)


def form_login(client, email: str, password: str = TEST_PASSWORD, **kwargs):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    return client.post("/login", data={"email": email, "password": password, "csrf_token": token}, **kwargs)


def bearer(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


def in_parallel(app, count: int, call: Callable[[object], object]) -> list:
    """Run ``call(test_client)`` ``count`` times at once, released together by a barrier."""
    barrier = threading.Barrier(count, timeout=30)

    def run(_):
        client = app.test_client()
        barrier.wait()
        return call(client)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count), timeout=120))


def audit_events(event: str | None = None) -> list[AuditEvent]:
    db.session.expire_all()
    query = select(AuditEvent).order_by(AuditEvent.id)
    if event:
        query = query.where(AuditEvent.event == event)
    return list(db.session.scalars(query).unique())


def comparable(response) -> tuple:
    """Status, body and headers minus the per-request ones: what a caller could compare."""
    varying = {"X-Request-ID", "Content-Security-Policy", "Date", "Set-Cookie"}
    headers = sorted((k, v) for k, v in response.headers.items() if k not in varying)
    return response.status_code, response.get_data(), headers
