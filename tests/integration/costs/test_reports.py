"""The summary, the records list and the CSV agree with a brute-force pass over the cost records."""
from __future__ import annotations

import csv
import io
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from webapp.clock import frozen_at
from webapp.costs import recording
from webapp.costs.models import CostRecord

NOW = datetime(2026, 12, 10, 15, 0, tzinfo=UTC)


@pytest.fixture
def records(db, make_workflow, make_user, redis):
    """120 records over 9 days, two workflows, three users (one unset), two models, odd amounts."""
    from webapp.runs import actions

    rng = random.Random(7)
    users = [make_user("operator"), make_user("operator"), None]
    for name in ("alpha", "beta"):
        make_workflow({"name": name, "steps": [
            {"id": f"s{index}", "uses": "template.render", "with": {"template": "x"}} for index in range(3)]})
    runs = [actions.trigger_run(rng.choice(["alpha", "beta"]), {}, rng.choice(users[:2]))[0] for _ in range(40)]
    rows = []
    for index in range(120):
        run = runs[index % len(runs)]
        step = run.steps[index % 3]
        user = rng.choice(users)
        rows.append(recording.record(CostRecord(
            run_id=run.id, step_run_id=step.id, attempt=index + 1, kind="llm",
            model=rng.choice(["local-small", "local-large"]), units_in=rng.randint(1, 900),
            units_out=rng.randint(1, 90),
            amount=Decimal(rng.randint(1, 10**7)) / Decimal(10**8), user_id=user.id if user else None,
            workflow_id=run.workflow_id, created_at=NOW - timedelta(hours=rng.randint(0, 24 * 9)))))
    db.session.commit()
    return rows


def brute_force(rows, key, since, until):
    groups = defaultdict(lambda: [Decimal("0"), set()])
    for row in rows:
        if since <= row.created_at < until:
            groups[key(row)][0] += row.amount
            groups[key(row)][1].add(row.run_id)
    return {group: (format(total.quantize(Decimal("0.00000001")), "f"), len(run_ids))
            for group, (total, run_ids) in groups.items()}


@pytest.mark.parametrize("group_by", ["day", "workflow", "user", "model"])
def test_the_summary_equals_a_brute_force_sum_over_the_records_for_every_grouping(
        client, db, api_headers, records, group_by):
    headers, _ = api_headers("viewer")
    since, until = NOW - timedelta(days=5, hours=3), NOW
    response = client.get("/api/v3/costs/summary", headers=headers, query_string={
        "group_by": group_by, "since": since.isoformat(), "until": until.isoformat()})
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    keys = {"day": lambda r: r.created_at.strftime("%Y-%m-%d"), "workflow": lambda r: r.workflow_id,
            "user": lambda r: r.user_id, "model": lambda r: r.model}
    expected = brute_force(records, keys[group_by], since, until)
    assert {item["key"]: (item["spent"], item["runs"]) for item in body["items"]} == expected
    everything = brute_force(records, lambda r: "all", since, until)["all"]
    assert (body["totals"]["spent"], body["totals"]["runs"]) == everything
    assert body["totals"]["saved"] == "0.00000000" and body["totals"]["saving_ratio"] == "0.0000"


def test_the_records_list_pages_through_every_record_once_newest_first_with_filters(
        client, db, api_headers, records):
    headers, _ = api_headers("viewer")
    seen, cursor = [], None
    while True:
        query = {"limit": 17, "model": "local-small", **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v3/costs/records", headers=headers, query_string=query).get_json()
        seen += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    expected = sorted((r for r in records if r.model == "local-small"), key=lambda r: (r.created_at, r.id),
                      reverse=True)
    assert [item["id"] for item in seen] == [r.id for r in expected]
    assert client.get("/api/v3/costs/records", headers=headers, query_string={"cursor": "junk"}).status_code == 400
    assert client.get("/api/v3/costs/records", headers=headers, query_string={"since": "yesterday"}).status_code == 422


def test_the_csv_export_holds_exactly_the_periods_records(client, db, login_as, records):
    with frozen_at(NOW):
        login_as("viewer")
        response = client.get("/costs/export.csv?range=7d")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    since, until = datetime(2026, 12, 4, tzinfo=UTC), datetime(2026, 12, 11, tzinfo=UTC)  # 7 whole days to today's end
    expected = sorted((r for r in records if since <= r.created_at < until), key=lambda r: (r.created_at, r.id))
    assert [(int(row["id"]), row["amount"], row["model"]) for row in rows] == \
        [(r.id, str(db.session.get(CostRecord, r.id).amount), r.model) for r in expected]
    assert sum(Decimal(row["amount"]) for row in rows) == sum(
        db.session.scalars(select(CostRecord.amount).where(CostRecord.id.in_([r.id for r in expected]))))


def test_the_dashboard_shows_the_totals_tables_chart_data_and_budgets(client, db, login_as, records, make_budget):
    make_budget("1", "pause", name="daily cap")
    with frozen_at(NOW):
        login_as("viewer")
        page = client.get("/costs?range=30d&stack=model")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'id="cost-chart-data"' in html and "local-large" in html and "daily cap" in html
    assert 'data-testid="by-workflow"' in html and "alpha" in html
    assert 'data-testid="new-budget"' not in html  # viewers do not get the admin forms
    assert client.get("/costs?range=1y").status_code == 422


def test_an_admin_sees_the_budget_and_price_forms_and_a_bad_form_is_a_message_not_an_error(
        client, db, login_as, make_budget):
    budget = make_budget("2.5", "pause")
    login_as("admin")
    html = client.get("/costs").get_data(as_text=True)
    assert 'data-testid="new-budget"' in html and 'value="2.5"' in html
    assert 'data-testid="new-price"' in client.get("/costs/prices").get_data(as_text=True)
    from tests.conftest import csrf_token_from

    token = csrf_token_from(html)
    refused = client.post("/costs/budgets", data={"csrf_token": token, "scope": "global", "period": "day",
                                                  "limit": "lots", "on_exceed": "pause"}, follow_redirects=True)
    assert refused.status_code == 200 and "limit" in refused.get_data(as_text=True)
    saved = client.post(f"/costs/budgets/{budget.id}", data={"csrf_token": token, "limit": "4"}, follow_redirects=True)
    assert saved.status_code == 200 and "Budget saved." in saved.get_data(as_text=True)
    db.session.expire_all()
    assert str(db.session.get(type(budget), budget.id).limit) == "4.00000000"


def test_the_dashboards_single_scan_gives_the_same_figures_as_the_summary(db, records):
    from webapp.costs import reports

    span = reports.Window(NOW - timedelta(days=6, hours=5), NOW)
    page = reports.dashboard("model", span)
    for group in ("workflow", "user", "model"):
        expected = {item["key"]: (item["spent"], item["records"]) for item in reports.grouped(group, span)}
        assert {item["key"]: (item["spent"], item["records"]) for item in page["tables"][group]} == expected
    assert page["totals"]["spent"] == reports.totals(span)["spent"]
    by_day = {item["key"]: Decimal(item["spent"]) for item in reports.grouped("day", span)}
    stacked = {day: sum(Decimal(str(series["values"][index])) for series in page["chart"]["series"])
               for index, day in enumerate(page["chart"]["days"])}
    assert {day: round(total, 6) for day, total in stacked.items() if total} == \
        {day: round(total, 6) for day, total in by_day.items()}
