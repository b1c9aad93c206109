"""One way to write money and time, for templates and the JSON API alike.

Money keeps a fixed number of decimals per currency: its ISO 4217 minor unit plus two, because
step costs are metered in fractions of a cent (1,000 tokens of ``local-small`` cost $0.0005).
So US dollars always read ``10.0000`` and ``0.0125``, never ``1E+1`` or ``0.01250000``. Amounts
are rounded half-even, the rounding of ``Decimal`` and of accounting.

Time is always UTC. Machines get ISO 8601 with a ``Z`` (``2026-12-01T09:30:00Z``, the form
JavaScript's ``Date`` and every JSON client parse); people get ``2026-12-01 09:30:00 UTC``.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

from flask import Flask

MINOR_UNITS = {"USD": 2, "EUR": 2, "GBP": 2, "CHF": 2, "JPY": 0, "KRW": 0}
EXTRA_DECIMALS = 2


def decimals_for(currency: str) -> int:
    return MINOR_UNITS.get(currency.upper(), 2) + EXTRA_DECIMALS


def money(amount: Decimal | int | str | None, currency: str = "USD") -> str:
    """``Decimal("10")`` -> ``"10.0000"``; ``None`` is zero."""
    quantum = Decimal(1).scaleb(-decimals_for(currency))
    return format(Decimal(amount or 0).quantize(quantum, rounding=ROUND_HALF_EVEN), "f")


def decimal_text(value: Decimal | int | str | None) -> str:
    """A stored decimal at its own scale in plain notation: ``Decimal("5E-7")`` -> ``"0.0000005"``,
    never the exponent form ``str`` gives small values; ``None`` is zero."""
    return format(Decimal(0 if value is None else value), "f")


def money_text(amount: Decimal | int | str | None, currency: str = "USD") -> str:
    """For people: ``"$10.0000"`` in dollars, ``"12.0000 EUR"`` otherwise."""
    text = money(amount, currency)
    return f"${text}" if currency.upper() == "USD" else f"{text} {currency.upper()}"


def aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; every stored time is UTC."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a ``Z``: the API's only timestamp format."""
    return aware(moment).isoformat().replace("+00:00", "Z") if moment else None


def time_text(moment: datetime | None) -> str:
    return aware(moment).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "—"


def register_filters(app: Flask) -> None:
    """``{{ amount|money }}``, ``{{ moment|utc }}`` and ``{{ moment|iso }}`` in every template."""
    app.add_template_filter(money_text, "money")
    app.add_template_filter(time_text, "utc")
    app.add_template_filter(iso, "iso")
