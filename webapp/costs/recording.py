"""Writing cost records: the one place that does, so the daily rollup cannot miss one.

``record`` adds an attempt's record and, in the same transaction, adds it to its row of
``cost_daily`` (``INSERT ... SELECT ... ON CONFLICT DO UPDATE SET spent = spent + excluded.spent``):
the rollup commits with the record or not at all, and concurrent workers adding to the same
row wait for each other's row lock instead of losing an addition. ``roll_up`` is the same
statement over many records at once, for the demo data's bulk loads.
"""
from __future__ import annotations

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.dialects import postgresql, sqlite

from webapp.clock import utcnow
from webapp.costs.models import NO_MODEL, NONE_ID, CostDaily, CostRecord
from webapp.extensions import db


def day_key():
    """The UTC calendar day of a record, on PostgreSQL (a date) and SQLite (``YYYY-MM-DD`` text)."""
    if db.engine.dialect.name == "postgresql":
        return func.date(func.timezone("UTC", CostRecord.created_at))
    return func.strftime("%Y-%m-%d", CostRecord.created_at)


def record(cost: CostRecord) -> CostRecord:
    """Add ``cost`` and its share of the daily rollup, in the caller's transaction."""
    cost.created_at = cost.created_at or utcnow()
    db.session.add(cost)
    db.session.flush()
    roll_up(CostRecord.id == cost.id)
    return cost


def rollup_sums() -> Select:
    """The records summed by ``cost_daily``'s key: what its rows must hold (add a WHERE)."""
    keys = (day_key().label("day"), func.coalesce(CostRecord.workflow_id, NONE_ID).label("workflow_id"),
            func.coalesce(CostRecord.user_id, NONE_ID).label("user_id"),
            func.coalesce(CostRecord.model, NO_MODEL).label("model"), CostRecord.currency.label("currency"))
    return select(*keys, func.sum(CostRecord.amount).label("spent"),
                  func.coalesce(func.sum(CostRecord.saved), 0).label("saved"),
                  func.count().label("records")).group_by(*keys)


def roll_up(which: ColumnElement[bool]) -> None:
    """Add the records that ``which`` selects to their ``cost_daily`` rows (records the rollup has
    not counted yet: adding one twice counts it twice)."""
    sums = rollup_sums().where(which)
    dialect = postgresql if db.engine.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(CostDaily).from_select(
        ["day", "workflow_id", "user_id", "model", "currency", "spent", "saved", "records"], sums)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["day", "workflow_id", "user_id", "model", "currency"],
        set_={"spent": CostDaily.spent + statement.excluded.spent, "saved": CostDaily.saved + statement.excluded.saved,
              "records": CostDaily.records + statement.excluded.records}))
