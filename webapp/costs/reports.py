"""The read side of costs: the summary by day, workflow, user or model, the records list, CSV.

Every figure is a SQL sum over ``cost_records`` (Numeric, never float), or for the dashboard's
whole days over their daily rollup ``cost_daily`` (the same sums, kept as each record is
written), so the dashboard, the API and ``flask costs reconcile`` agree to the cent. ``saved`` is
the cost that memo-cache hits avoided, from the records' ``saved`` column.
A period is ``[since, until)`` in UTC; days are UTC calendar days.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select, tuple_

from webapp.clock import utcnow
from webapp.costs.ledger import ZERO, money_text
from webapp.costs.models import NO_MODEL, NONE_ID, CostDaily, CostRecord
from webapp.costs.recording import day_key, rollup_sums
from webapp.extensions import db
from webapp.formatting import decimal_text, iso
from webapp.runs.models import StepRun
from webapp.users.models import User
from webapp.workflows.models import Workflow

GROUPS = ("day", "workflow", "user", "model")
DEFAULT_DAYS = 7
CSV_COLUMNS = ("id", "created_at", "run_id", "step_id", "attempt", "workflow", "user_id", "kind", "model",
               "units_in", "units_out", "unit_price_in", "unit_price_out", "amount", "saved", "currency")


@dataclass(frozen=True)
class Window:
    since: datetime
    until: datetime


def window(since: datetime | None, until: datetime | None) -> Window:
    """``until`` defaults to now, ``since`` to seven days before ``until``."""
    until = until or utcnow()
    return Window(since or until - timedelta(days=DEFAULT_DAYS), until)


def day_text(day: Any) -> str:
    return day if isinstance(day, str) else day.isoformat()


def group_key(group_by: str):
    return {"day": day_key(), "workflow": CostRecord.workflow_id, "user": CostRecord.user_id,
            "model": CostRecord.model}[group_by]


def in_window(query: Select, span: Window) -> Select:
    return query.where(CostRecord.created_at >= span.since, CostRecord.created_at < span.until)


def summary(group_by: str, span: Window) -> dict[str, Any]:
    """``{"items": [{key, label, spent, saved, runs}], "totals": {spent, saved, runs, saving_ratio}}``."""
    return {"group_by": group_by, "since": span.since.isoformat(), "until": span.until.isoformat(),
            "items": grouped(group_by, span), "totals": totals(span)}


def grouped(group_by: str, span: Window) -> list[dict[str, Any]]:
    """One item per key: days in order, the other groups by spend, largest first."""
    key = group_key(group_by).label("key")
    rows = db.session.execute(in_window(select(
        key, func.coalesce(func.sum(CostRecord.amount), 0).label("spent"),
        func.coalesce(func.sum(CostRecord.saved), 0).label("saved"),
        func.count(func.distinct(CostRecord.run_id)).label("runs"), func.count().label("records"),
    ), span).group_by(key).order_by(key)).all()
    labels = _labels(group_by, [row.key for row in rows])
    keys = [day_text(row.key) if group_by == "day" else row.key for row in rows]
    items = [{"key": key, "label": labels.get(key, "none" if key is None else str(key)),
              "spent": _money(row.spent), "saved": _money(row.saved), "runs": row.runs, "records": row.records}
             for key, row in zip(keys, rows, strict=True)]
    if group_by != "day":
        items.sort(key=lambda item: Decimal(item["spent"]), reverse=True)
    return items


def totals(span: Window) -> dict[str, Any]:
    row = db.session.execute(in_window(select(
        func.coalesce(func.sum(CostRecord.amount), 0).label("spent"),
        func.coalesce(func.sum(CostRecord.saved), 0).label("saved"),
        func.count(func.distinct(CostRecord.run_id)).label("runs"), func.count().label("records")), span)).one()
    spent, saved = Decimal(row.spent), Decimal(row.saved)
    return {"spent": _money(spent), "saved": _money(saved), "runs": row.runs, "records": row.records,
            "saving_ratio": saving_ratio(spent, saved)}


def saving_ratio(spent: Decimal, saved: Decimal) -> str:
    """Saved over what it would have cost without the cache: saved / (spent + saved)."""
    would_have = spent + saved
    return format((saved / would_have if would_have > 0 else ZERO).quantize(Decimal("0.0001")), "f")


def dashboard(stack_by: str, span: Window) -> dict[str, Any]:
    """Everything /costs shows, from a few thousand rows grouped by (day, workflow, user, model).

    The whole UTC days of the period come from the daily rollup (``cost_daily``), whatever the
    number of records; only a day the period cuts (its first or last, when they are not whole)
    is summed from its records. Totals, the chart and the three tables are sums over these rows.
    The page counts records, not distinct runs (that would need every record); the summary API
    gives the runs.
    """
    groups = {"workflow": 1, "user": 2, "model": 3}
    tables: dict[str, dict[Any, list]] = {group: {} for group in groups}
    stacks: dict[Any, dict[str, Decimal]] = {}
    spent_total, saved_total, records_total = ZERO, ZERO, 0
    for row in daily_rows(span):
        spent, saved = Decimal(row.spent), Decimal(row.saved)
        spent_total, saved_total, records_total = spent_total + spent, saved_total + saved, records_total + row.records
        for group, index in groups.items():
            entry = tables[group].setdefault(row[index], [ZERO, ZERO, 0])
            entry[0], entry[1], entry[2] = entry[0] + spent, entry[1] + saved, entry[2] + row.records
        stack = stacks.setdefault(row[groups[stack_by]], {})
        stack[day_text(row.day)] = stack.get(day_text(row.day), ZERO) + spent
    return {
        "totals": {"spent": _money(spent_total), "saved": _money(saved_total), "records": records_total,
                   "saving_ratio": saving_ratio(spent_total, saved_total)},
        "tables": {group: _table(group, entries) for group, entries in tables.items()},
        "chart": _chart(stack_by, span, stacks),
    }


def whole_days(span: Window) -> tuple[datetime, datetime]:
    """``[first, last)``: the midnights that bound the whole UTC days inside the period."""
    first = span.since.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    if first < span.since:
        first += timedelta(days=1)
    return first, max(first, span.until.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0))


def daily_rows(span: Window) -> list:
    """``(day, workflow_id, user_id, model, spent, saved, records)`` rows covering the period exactly."""
    first, last = whole_days(span)
    if first == last:
        return _by_key(_record_sums(span))
    rows = _by_key(CostDaily.__table__, CostDaily.day >= first.date(), CostDaily.day < last.date())
    edges = [Window(span.since, first), Window(last, span.until)]
    return rows + [row for edge in edges if edge.since < edge.until for row in _by_key(_record_sums(edge))]


def _record_sums(span: Window):
    """The period's records summed as ``cost_daily`` rows are (``recording.rollup_sums``)."""
    return in_window(rollup_sums(), span).subquery()


def _by_key(source, *where) -> list:
    """``source``'s rows (``cost_daily`` or record sums shaped like it) summed over currencies,
    with the rollup's "none" keys read back as NULL."""
    c = source.c
    return db.session.execute(select(
        c.day, func.nullif(c.workflow_id, NONE_ID), func.nullif(c.user_id, NONE_ID), func.nullif(c.model, NO_MODEL),
        func.sum(c.spent).label("spent"), func.sum(c.saved).label("saved"), func.sum(c.records).label("records"))
        .where(*where).group_by(c.day, c.workflow_id, c.user_id, c.model)).all()


def _table(group: str, entries: dict[Any, list]) -> list[dict[str, Any]]:
    labels = _labels(group, list(entries))
    items = [{"key": key, "label": labels.get(key, "none" if key is None else str(key)), "spent": _money(spent),
              "saved": _money(saved), "records": records} for key, (spent, saved, records) in entries.items()]
    return sorted(items, key=lambda item: Decimal(item["spent"]), reverse=True)


def _chart(stack_by: str, span: Window, stacks: dict[Any, dict[str, Decimal]]) -> dict[str, Any]:
    """Spend per UTC day stacked by workflow or model: ``{"days": [...], "series": [{label, values}]}``."""
    last = (span.until - timedelta(microseconds=1)).date()  # a period up to a midnight ends the day before
    days = [(span.since + timedelta(days=offset)).strftime("%Y-%m-%d")
            for offset in range((last - span.since.date()).days + 1)]
    labels = _labels(stack_by, list(stacks))
    ordered = sorted(stacks.items(), key=lambda item: sum(item[1].values()), reverse=True)
    return {"days": days, "stack_by": stack_by, "series": [
        {"label": labels.get(key, "none" if key is None else str(key)),
         "values": [float(values.get(day, ZERO)) for day in days]} for key, values in ordered]}


def _labels(group_by: str, keys: list[Any]) -> dict[Any, str]:
    ids = [key for key in keys if key is not None]
    if group_by == "workflow" and ids:
        return dict(db.session.execute(select(Workflow.id, Workflow.slug).where(Workflow.id.in_(ids))).all())
    if group_by == "user" and ids:
        return dict(db.session.execute(select(User.id, User.email).where(User.id.in_(ids))).all())
    return {}


def _money(value: Any) -> str:
    return money_text(Decimal(value))


def _with_names() -> Select:
    """Records with their step's id and their workflow's slug."""
    return (select(CostRecord, StepRun.step_key, Workflow.slug)
            .join(StepRun, StepRun.id == CostRecord.step_run_id)
            .outerjoin(Workflow, Workflow.id == CostRecord.workflow_id))


def records_query(*, run_id: int | None = None, workflow: str | None = None, user_id: int | None = None,
                  model: str | None = None, since: datetime | None = None, until: datetime | None = None,
                  before: tuple[datetime, int] | None = None) -> Select:
    """Records newest first, keyset-paged on ``(created_at, id)``."""
    query = _with_names()
    if run_id is not None:
        query = query.where(CostRecord.run_id == run_id)
    if workflow is not None:
        query = query.where(Workflow.slug == workflow)
    if user_id is not None:
        query = query.where(CostRecord.user_id == user_id)
    if model is not None:
        query = query.where(CostRecord.model == model)
    if since is not None:
        query = query.where(CostRecord.created_at >= since)
    if until is not None:
        query = query.where(CostRecord.created_at < until)
    if before is not None:
        query = query.where(tuple_(CostRecord.created_at, CostRecord.id) < tuple_(*before))
    return query.order_by(CostRecord.created_at.desc(), CostRecord.id.desc())


def record_json(row) -> dict[str, Any]:
    record, step_key, slug = row
    saved = getattr(record, "saved", None)
    return {"id": record.id, "created_at": iso(record.created_at), "run_id": record.run_id,
            "step_id": step_key, "attempt": record.attempt, "workflow": slug, "user_id": record.user_id,
            "kind": record.kind, "model": record.model, "units_in": record.units_in, "units_out": record.units_out,
            "unit_price_in": decimal_text(record.unit_price_in), "unit_price_out": decimal_text(record.unit_price_out),
            "amount": decimal_text(record.amount), "saved": decimal_text(saved), "currency": record.currency}


def csv_lines(span: Window, batch: int = 2000) -> Iterator[str]:
    """The period's records as CSV, oldest first, read in keyset batches (constant memory)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    yield _drain(buffer)
    after: tuple[datetime, int] | None = None
    while True:
        query = in_window(_with_names(), span).order_by(CostRecord.created_at, CostRecord.id).limit(batch)
        if after is not None:
            query = query.where(tuple_(CostRecord.created_at, CostRecord.id) > tuple_(*after))
        rows = db.session.execute(query).all()
        if not rows:
            return
        for row in rows:
            data = record_json(row)
            writer.writerow([data[column] for column in CSV_COLUMNS])
        after = (rows[-1][0].created_at, rows[-1][0].id)
        yield _drain(buffer)


def _drain(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text


def spend_by_step(run_id: int) -> dict[str, str]:
    """Each step's recorded spend in one run (the run page's DAG nodes)."""
    rows = db.session.execute(select(StepRun.step_key, func.sum(CostRecord.amount))
                              .join(StepRun, StepRun.id == CostRecord.step_run_id)
                              .where(CostRecord.run_id == run_id).group_by(StepRun.step_key)).all()
    return {step: _money(amount) for step, amount in rows}

