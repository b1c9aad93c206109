"""The price table: a model's price per 1,000 tokens in force at a given moment.

``LLM_PRICES`` is the table's first row for each model it names, in force since the epoch;
admins add dated rows (``effective_from``) on /costs/prices or with ``POST /api/v3/prices``. A
row is never edited or deleted: a change is a new row, so a cost record made yesterday keeps the
unit prices it was charged at (they are copied onto the record) and a new price applies only to
steps that start at or after its date. A model with neither a row nor an ``LLM_PRICES`` entry
has no price, and ``llm.complete`` refuses it before calling the provider.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask import current_app
from sqlalchemy import func, select

from webapp.audit.service import record
from webapp.costs.budget_models import Price
from webapp.costs.cache import cached
from webapp.costs.periods import EPOCH
from webapp.events import publish
from webapp.exceptions import Conflict
from webapp.extensions import db
from webapp.formatting import decimal_text


@dataclass(frozen=True)
class PriceRow:
    model: str
    input_per_1k: Decimal
    output_per_1k: Decimal
    currency: str
    effective_from: datetime
    source: str  # "setting" (LLM_PRICES) or "admin"


def _setting_row(model: str) -> PriceRow | None:
    pair = current_app.config["LLM_PRICES"].get(model)
    if pair is None:
        return None
    return PriceRow(model, pair[0], pair[1], "USD", EPOCH, "setting")


def row_of(price: Price) -> PriceRow:
    return PriceRow(price.model, price.input_per_1k, price.output_per_1k, price.currency, price.effective_from,
                    price.source)


def price_at(model: str, at: datetime) -> PriceRow | None:
    """The price of ``model`` in force at ``at``, or None when the model has no price (from the
    process's copy of the table, read again after any price is added)."""
    in_force = [row for row in cached("prices", _stored_rows).get(model, ()) if row.effective_from <= at]
    return max(in_force, key=lambda row: row.effective_from) if in_force else _setting_row(model)


def _stored_rows() -> dict[str, tuple[PriceRow, ...]]:
    rows: dict[str, list[PriceRow]] = {}
    for price in db.session.scalars(select(Price).order_by(Price.model, Price.effective_from)).all():
        rows.setdefault(price.model, []).append(row_of(price))
    return {model: tuple(found) for model, found in rows.items()}


def priced_models() -> list[str]:
    stored = db.session.scalars(select(Price.model).distinct()).all()
    return sorted(set(stored) | set(current_app.config["LLM_PRICES"]))


def price_table() -> list[PriceRow]:
    """Every row, newest date first per model, with the ``LLM_PRICES`` rows at the bottom."""
    rows = [row_of(price) for price in db.session.scalars(
        select(Price).order_by(Price.model, Price.effective_from.desc())).all()]
    rows += [row for model in sorted(current_app.config["LLM_PRICES"]) if (row := _setting_row(model))]
    return sorted(rows, key=lambda row: (row.model, -row.effective_from.timestamp()))


def add_price(model: str, input_per_1k: Decimal, output_per_1k: Decimal, effective_from: datetime, *,
              currency: str = "USD", actor=None) -> Price:
    """A new dated price, audited and published; the caller commits. Same model and date twice is 409."""
    exists = db.session.scalar(select(func.count()).select_from(Price).where(
        Price.model == model, Price.effective_from == effective_from))
    if exists:
        raise Conflict(f"{model} already has a price from {effective_from.isoformat()}; add one with another date.",
                       details={"model": model, "effective_from": effective_from.isoformat()})
    price = Price(model=model, input_per_1k=input_per_1k, output_per_1k=output_per_1k, currency=currency,
                  effective_from=effective_from, created_by=getattr(actor, "id", actor))
    db.session.add(price)
    db.session.flush()
    payload = price_json(row_of(price))
    record("price.create", actor=actor, target_type="price", target_id=price.id, details=payload)
    publish("price.created", payload)
    return price


def price_json(row: PriceRow) -> dict[str, Any]:
    return {"model": row.model, "input": decimal_text(row.input_per_1k), "output": decimal_text(row.output_per_1k),
            "currency": row.currency, "effective_from": row.effective_from.isoformat(), "source": row.source}
