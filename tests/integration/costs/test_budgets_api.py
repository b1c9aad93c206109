"""``/api/v3/budgets`` and ``/api/v3/prices``: admins write (audited, published), viewers read, bad input is 4xx."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from webapp.audit.models import AuditEvent
from webapp.clock import frozen_at, utcnow
from webapp.costs import prices
from webapp.events.models import Event


def events(db, prefix: str) -> list[str]:
    return list(db.session.scalars(select(Event.type).where(Event.type.like(prefix + "%")).order_by(Event.id)))


def audits(db, prefix: str) -> list[str]:
    return list(db.session.scalars(select(AuditEvent.event).where(AuditEvent.event.like(prefix + "%"))
                                   .order_by(AuditEvent.id)))


def test_an_admin_creates_a_workflow_budget_named_by_slug_and_it_is_audited_and_published(
        client, db, api_headers, make_workflow):
    make_workflow({"name": "digest", "steps": [{"id": "a", "uses": "template.render", "with": {"template": "x"}}]})
    headers, _ = api_headers("admin")
    response = client.post("/api/v3/budgets", headers=headers, json={
        "scope": "workflow", "scope_id": "digest", "period": "month", "limit": "12.50", "on_exceed": "pause"})
    assert response.status_code == 201, response.get_json()
    budget = response.get_json()["budget"]
    assert (budget["scope"], budget["scope_id"], budget["limit"], budget["soft_threshold_pct"]) == \
        ("workflow", "digest", "12.50000000", 80)
    assert budget["usage"]["remaining"] == "12.50000000"
    assert audits(db, "budget.") == ["budget.create"]
    assert events(db, "budget.") == ["budget.created"]

    changed = client.patch(f"/api/v3/budgets/{budget['id']}", headers=headers, json={"limit": 20})
    assert changed.status_code == 200 and changed.get_json()["budget"]["limit"] == "20.00000000"
    assert client.delete(f"/api/v3/budgets/{budget['id']}", headers=headers).status_code == 204
    assert client.get(f"/api/v3/budgets/{budget['id']}", headers=headers).status_code == 404
    assert audits(db, "budget.") == ["budget.create", "budget.update", "budget.delete"]
    assert events(db, "budget.") == ["budget.created", "budget.updated", "budget.deleted"]


def test_a_patch_that_changes_nothing_writes_no_audit_event(client, db, api_headers):
    headers, _ = api_headers("admin")
    budget = client.post("/api/v3/budgets", headers=headers, json={
        "scope": "global", "period": "day", "limit": "5", "on_exceed": "alert"}).get_json()["budget"]
    assert client.patch(f"/api/v3/budgets/{budget['id']}", headers=headers, json={"limit": "5.0"}).status_code == 200
    assert audits(db, "budget.") == ["budget.create"]


def test_viewers_read_budgets_but_cannot_write_them(client, db, api_headers):
    admin, _ = api_headers("admin")
    viewer, _ = api_headers("viewer")
    body = {"scope": "global", "period": "total", "limit": "1", "on_exceed": "block"}
    assert client.post("/api/v3/budgets", headers=viewer, json=body).status_code == 403
    budget = client.post("/api/v3/budgets", headers=admin, json=body).get_json()["budget"]
    assert client.get("/api/v3/budgets", headers=viewer).get_json()["items"][0]["id"] == budget["id"]
    usage = client.get(f"/api/v3/budgets/{budget['id']}/usage", headers=viewer).get_json()
    assert (usage["period_start"], usage["spent"], usage["reserved"], usage["limit"]) == \
        ("1970-01-01T00:00:00+00:00", "0.00000000", "0.00000000", "1.00000000")
    assert client.get(f"/api/v3/budgets/{budget['id']}/alerts", headers=viewer).get_json()["items"] == []
    assert client.patch(f"/api/v3/budgets/{budget['id']}", headers=viewer, json={"limit": "2"}).status_code == 403


def test_budget_bodies_that_break_a_rule_are_422_naming_the_field(client, db, api_headers, make_user):
    headers, _ = api_headers("admin")
    base = {"scope": "global", "period": "day", "limit": "1", "on_exceed": "pause"}
    cases = [
        ({"limit": "-1"}, "limit"), ({"limit": "NaN"}, "limit"), ({"limit": "1.000000001"}, "limit"),
        ({"limit": True}, "limit"), ({"limit": "1e30"}, "limit"), ({"period": "fortnight"}, "period"),
        ({"on_exceed": "ignore"}, "on_exceed"), ({"soft_threshold_pct": 0}, "soft_threshold_pct"),
        ({"currency": "usd"}, "currency"), ({"scope_id": "x"}, "scope_id"),
        ({"scope": "workflow", "scope_id": "ghost"}, "scope_id"), ({"scope": "user", "scope_id": 999999}, "scope_id"),
        ({"scope": "user"}, "scope_id"),
    ]
    for change, field in cases:
        response = client.post("/api/v3/budgets", headers=headers, json={**base, **change})
        assert response.status_code == 422, (change, response.get_json())
        assert any(name.startswith(field) for name in response.get_json()["error"]["details"]["fields"]), change
    user = make_user("operator")
    ok = client.post("/api/v3/budgets", headers=headers, json={**base, "scope": "user", "scope_id": user.id})
    assert ok.status_code == 201 and ok.get_json()["budget"]["scope_id"] == user.id


def test_a_new_price_applies_from_its_date_and_the_old_one_stays_in_force_before_it(client, db, api_headers):
    headers, _ = api_headers("admin")
    viewer, _ = api_headers("viewer")
    tomorrow = (utcnow() + timedelta(days=1)).replace(microsecond=0)
    response = client.post("/api/v3/prices", headers=headers, json={
        "model": "local-small", "input": "0.001", "output": "0.002", "effective_from": tomorrow.isoformat()})
    assert response.status_code == 201, response.get_json()
    assert client.post("/api/v3/prices", headers=viewer, json={"model": "m", "input": "1", "output": "1"}) \
        .status_code == 403
    again = client.post("/api/v3/prices", headers=headers, json={
        "model": "local-small", "input": "0.003", "output": "0.004", "effective_from": tomorrow.isoformat()})
    assert again.status_code == 409
    listed = client.get("/api/v3/prices", headers=viewer).get_json()["items"]
    small = [(row["input"], row["source"]) for row in listed if row["model"] == "local-small"]
    assert small == [("0.0010000000", "admin"), ("0.0005", "setting")]
    assert prices.price_at("local-small", utcnow()).input_per_1k == Decimal("0.0005")
    with frozen_at(tomorrow):
        assert prices.price_at("local-small", utcnow()).input_per_1k == Decimal("0.001")
    assert prices.price_at("nobody-prices-this", datetime.now(UTC)) is None
    assert audits(db, "price.") == ["price.create"] and events(db, "price.") == ["price.created"]
