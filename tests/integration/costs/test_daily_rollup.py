"""The daily rollup ``cost_daily`` holds exactly the sums of the cost records, and the dashboard read
from it shows what a brute-force pass over the records gives, for whole days and cut ones."""
from __future__ import annotations

import re
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select, update

from tests.integration.costs.test_reports import NOW, records  # noqa: F401  (the records fixture)
from tests.integration.costs.test_settle_and_periods import NOON, metered
from webapp.clock import frozen_at
from webapp.costs import reports
from webapp.costs.audit_totals import reconcile_costs
from webapp.costs.ledger import money_text
from webapp.costs.models import CostDaily, CostRecord
from webapp.formatting import money_text as shown_money


def rollup(db) -> dict[tuple, tuple[Decimal, Decimal, int]]:
    db.session.expire_all()
    return {(row.day.isoformat(), row.workflow_id, row.user_id, row.model, row.currency):
            (row.spent, row.saved, row.records) for row in db.session.scalars(select(CostDaily))}


def summed(rows) -> dict[tuple, tuple[Decimal, Decimal, int]]:
    """The rollup's rows, computed here from the records (no workflow, user or model keyed 0 or '')."""
    sums: dict[tuple, list] = defaultdict(lambda: [Decimal("0"), Decimal("0"), 0])
    for row in rows:
        entry = sums[(row.created_at.astimezone(UTC).date().isoformat(), row.workflow_id or 0, row.user_id or 0,
                      row.model or "", row.currency)]
        entry[0], entry[1], entry[2] = entry[0] + row.amount, entry[1] + (row.saved or 0), entry[2] + 1
    return {key: (spent, saved, count) for key, (spent, saved, count) in sums.items()}


def test_the_rollup_holds_the_sums_of_the_records_written(db, records):  # noqa: F811
    expected = summed(db.session.scalars(select(CostRecord)))
    assert len(expected) > 20  # 120 records over 10 days, two workflows, three users, two models
    assert rollup(db) == expected
    # (that fixture leaves the run and step totals at 0: only the rollup's check applies here)
    assert [problem for problem in reconcile_costs().problems if problem.startswith("daily rollup")] == []


def test_steps_run_by_the_engine_add_their_records_to_the_rollup(db, make_workflow, operator, redis):
    from webapp.runs import actions
    from webapp.runs.execution import claim, perform, record_outcome

    metered(make_workflow, "metered", bound="2", spend="0.12345678")
    metered(make_workflow, "other", bound="2", spend="0.5")
    for moment in (NOON, NOON, NOON + timedelta(days=1)):  # two records in one row, then the next day's
        with frozen_at(moment):
            for slug in ("metered", "other"):
                step = actions.trigger_run(slug, {}, operator)[0].step("meter")
                record_outcome(step.id, step.rq_job_id, perform(claim(step.id, step.rq_job_id)), run_id=step.run_id)
    written = db.session.scalars(select(CostRecord)).all()
    assert len(written) == 6
    held = rollup(db)
    assert held == summed(written)
    assert held[("2026-12-01", written[0].workflow_id, operator.id, "", "USD")] == (
        Decimal("0.24691356"), Decimal("0"), 2)


def test_reconcile_names_a_rollup_row_that_differs_from_its_records(db, records):  # noqa: F811
    day = db.session.scalars(select(CostDaily).order_by(CostDaily.day)).first()
    db.session.execute(update(CostDaily).where(CostDaily.day == day.day, CostDaily.workflow_id == day.workflow_id,
                                               CostDaily.user_id == day.user_id, CostDaily.model == day.model)
                       .values(spent=CostDaily.spent + Decimal("0.01")))
    db.session.commit()
    problems = [problem for problem in reconcile_costs().problems if problem.startswith("daily rollup")]
    assert len(problems) == 1 and problems[0].startswith(f"daily rollup: {day.day.isoformat()} ")
    assert "its records sum to" in problems[0]


SPANS = {
    "whole days": (datetime(2026, 12, 4, tzinfo=UTC), datetime(2026, 12, 11, tzinfo=UTC)),
    "cut at both ends": (NOW - timedelta(days=6, hours=5), NOW),
    "cut at the start only": (NOW - timedelta(days=3, hours=1), datetime(2026, 12, 10, tzinfo=UTC)),
    "within one day": (NOW - timedelta(hours=9), NOW - timedelta(hours=2)),
    "across one midnight": (NOW - timedelta(hours=20), NOW),
}


@pytest.mark.parametrize("span_name", list(SPANS))
def test_the_dashboard_equals_a_brute_force_pass_over_the_records(db, records, span_name):  # noqa: F811
    since, until = SPANS[span_name]
    page = reports.dashboard("workflow", reports.Window(since, until))
    inside = [row for row in records if since <= row.created_at < until]
    assert inside and page["totals"]["records"] == len(inside)
    assert page["totals"]["spent"] == money_text(sum(row.amount for row in inside))
    by_user: dict = defaultdict(lambda: Decimal("0"))
    for row in inside:
        by_user[row.user_id] += row.amount
    assert {item["key"]: item["spent"] for item in page["tables"]["user"]} == \
        {user: money_text(total) for user, total in by_user.items()}
    by_day: dict = defaultdict(lambda: Decimal("0"))
    for row in inside:
        by_day[row.created_at.date().isoformat()] += row.amount
    chart = {day: sum(Decimal(str(series["values"][index])) for series in page["chart"]["series"])
             for index, day in enumerate(page["chart"]["days"])}
    assert {day: round(total, 6) for day, total in chart.items() if total} == \
        {day: round(total, 6) for day, total in by_day.items()}


def test_the_page_shows_the_records_total_of_its_whole_days(client, db, login_as, records):  # noqa: F811
    with frozen_at(NOW):
        login_as("viewer")
        html = client.get("/costs?range=30d").get_data(as_text=True)
    since = datetime(2026, 11, 11, tzinfo=UTC)  # 30 whole days, the last one today's
    expected = sum(row.amount for row in records if since <= row.created_at)
    assert re.search(r'data-testid="spent">([^<]+)<', html).group(1) == shown_money(expected)
    assert "2026-11-11 00:00" in html and "2026-12-11 00:00" in html
