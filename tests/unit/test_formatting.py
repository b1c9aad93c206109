"""One money format and one timestamp format for templates and the API."""
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

from webapp.formatting import decimal_text, iso, money, money_text, time_text


def test_ten_dollars_reads_with_four_decimals_never_an_exponent():
    assert money(Decimal("10.00")) == "10.0000"
    assert money(Decimal("1E+1")) == "10.0000"
    assert money_text(Decimal("10")) == "$10.0000"


def test_sub_cent_costs_keep_four_decimals_and_round_half_even():
    assert money(Decimal("0.0125")) == "0.0125"
    assert money(Decimal("0.01250000")) == "0.0125"
    assert money(Decimal("0.00005")) == "0.0000"
    assert money(Decimal("0.00015")) == "0.0002"


def test_a_currency_without_minor_units_gets_two_decimals():
    assert money(Decimal("1500"), "JPY") == "1500.00"
    assert money_text(Decimal("3"), "EUR") == "3.0000 EUR"


def test_no_amount_is_zero():
    assert money(None) == "0.0000"


def test_timestamps_are_utc_with_a_z_whatever_the_offset_or_naivety():
    moment = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    assert iso(moment) == "2026-12-01T09:30:00Z"
    assert iso(moment.replace(tzinfo=None)) == "2026-12-01T09:30:00Z"
    assert iso(moment.astimezone(timezone(timedelta(hours=2)))) == "2026-12-01T09:30:00Z"
    assert iso(None) is None
    assert time_text(moment) == "2026-12-01 09:30:00 UTC"


def test_stored_decimals_keep_their_scale_in_plain_notation_never_an_exponent():
    assert str(Decimal("0E-8")) == "0E-8" and decimal_text(Decimal("0E-8")) == "0.00000000"
    assert decimal_text(Decimal("5.000E-7")) == "0.0000005000"
    assert decimal_text(Decimal("12.5")) == "12.5" and decimal_text(None) == "0"
