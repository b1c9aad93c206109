"""UTC calendar periods of budgets."""
from datetime import UTC, datetime, timedelta, timezone

import pytest

from webapp.costs.periods import EPOCH, period_end, period_start


@pytest.mark.parametrize(("period", "start", "end"), [
    ("day", datetime(2026, 12, 31, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ("week", datetime(2026, 12, 28, tzinfo=UTC), datetime(2027, 1, 4, tzinfo=UTC)),  # Monday to Monday
    ("month", datetime(2026, 12, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC)),
    ("total", EPOCH, None),
])
def test_a_moment_belongs_to_the_utc_period_that_contains_it(period, start, end):
    moment = datetime(2026, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)
    assert period_start(period, moment) == start
    assert period_end(period, moment) == end


def test_the_first_instant_of_a_period_starts_it_and_the_last_one_before_belongs_to_the_previous():
    midnight = datetime(2026, 12, 2, tzinfo=UTC)
    assert period_start("day", midnight) == midnight
    assert period_start("day", midnight - timedelta(microseconds=1)) == datetime(2026, 12, 1, tzinfo=UTC)


def test_periods_follow_utc_whatever_zone_the_moment_is_written_in():
    tokyo = timezone(timedelta(hours=9))
    assert period_start("day", datetime(2026, 12, 2, 8, 0, tzinfo=tokyo)) == datetime(2026, 12, 1, tzinfo=UTC)


def test_an_unknown_period_is_refused():
    with pytest.raises(ValueError):
        period_start("fortnight", datetime(2026, 12, 1, tzinfo=UTC))
