"""Request bodies and query strings of the costs API (and the dashboard's forms).

Money arrives as a decimal string (``"12.50"``) or a JSON number and is kept as ``Decimal``:
at most 10 digits before the point and 8 after, never negative, never NaN. Times are ISO 8601;
a time without a zone means UTC.
"""
from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, model_validator

from webapp.api.inputs import Body, DbId, Query
from webapp.api.pagination import DEFAULT_LIMIT, MAX_LIMIT
from webapp.costs.budget_models import ON_EXCEED, PERIODS, SCOPES
from webapp.costs.reports import GROUPS

MAX_MONEY = Decimal("9999999999.99999999")


def to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        raise ValueError("must be a decimal number, as a string like \"12.50\"")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a decimal number, as a string like \"12.50\"") from None
    if not number.is_finite():
        raise ValueError("must be a finite number")
    if number < 0 or number > MAX_MONEY:
        raise ValueError(f"must be between 0 and {MAX_MONEY}")
    if number.as_tuple().exponent < -8:
        raise ValueError("must have at most 8 decimal places")
    return number


def to_utc(value: Any) -> datetime:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be an ISO 8601 time such as 2026-12-01T00:00:00Z") from None
    if not isinstance(value, datetime):
        raise ValueError("must be an ISO 8601 time such as 2026-12-01T00:00:00Z")
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Money = Annotated[Decimal, BeforeValidator(to_decimal)]
UtcTime = Annotated[datetime, BeforeValidator(to_utc)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
ScopeRef = str | int | None


class BudgetBody(Body):
    scope: Literal[SCOPES]  # type: ignore[valid-type]
    scope_id: Annotated[str, Field(max_length=100)] | DbId | None = None
    period: Literal[PERIODS]  # type: ignore[valid-type]
    limit: Money
    on_exceed: Literal[ON_EXCEED]  # type: ignore[valid-type]
    currency: Currency = "USD"
    soft_threshold_pct: int = Field(default=80, ge=1, le=100)
    name: str = Field(default="", max_length=200)


class BudgetPatch(Body):
    name: str | None = Field(default=None, max_length=200)
    period: Literal[PERIODS] | None = None  # type: ignore[valid-type]
    limit: Money | None = None
    currency: Currency | None = None
    soft_threshold_pct: int | None = Field(default=None, ge=1, le=100)
    on_exceed: Literal[ON_EXCEED] | None = None  # type: ignore[valid-type]
    active: bool | None = None

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True, exclude_none=True)


class PriceBody(Body):
    model: str = Field(min_length=1, max_length=100)
    input: Money
    output: Money
    effective_from: UtcTime | None = None
    currency: Currency = "USD"


class EstimateBody(Body):
    params: dict[str, Any] = Field(default_factory=dict)


class Span(Query):
    since: UtcTime | None = None
    until: UtcTime | None = None

    @model_validator(mode="after")
    def ordered(self) -> Span:
        if self.since is not None and self.until is not None and self.since >= self.until:
            raise ValueError("since must be before until")
        return self


class SummaryQuery(Span):
    group_by: Literal[GROUPS] = "day"  # type: ignore[valid-type]


class RecordsQuery(Span):
    run: DbId | None = None
    workflow: str | None = Field(default=None, max_length=100)
    user: DbId | None = None
    model: str | None = Field(default=None, max_length=100)
    cursor: str | None = Field(default=None, max_length=500)
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
