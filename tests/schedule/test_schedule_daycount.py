"""Day-count conventions, worked by hand on 3,000.00 at 12% a year."""

from datetime import date
from decimal import Decimal

import pytest

from core.daycount import DayCount
from core.errors import InvalidArgumentError

D = Decimal
P, RATE = D(3000), D("0.12")


@pytest.mark.parametrize(
    ("convention", "start", "end", "interest"),
    [
        # 2026-01-15 → 2026-03-15: 59 actual days, 60 days on 30/360
        ("ACT/360", date(2026, 1, 15), date(2026, 3, 15), "59.00"),  # 3000 × 12% × 59/360
        ("ACT/365F", date(2026, 1, 15), date(2026, 3, 15), "58.19"),  # × 59/365 = 58.1918
        ("30/360", date(2026, 1, 15), date(2026, 3, 15), "60.00"),  # × 60/360
        ("ACT/ACT", date(2026, 1, 15), date(2026, 3, 15), "58.19"),  # 2026 has 365 days
        # 2027-12-15 → 2028-02-15 crosses into a leap year: 16 days of 2027, 46 of 2028
        ("ACT/ACT", date(2027, 12, 15), date(2028, 2, 15), "61.03"),  # 360 × (16/365 + 46/366) = 61.0267
        ("ACT/365F", date(2027, 12, 15), date(2028, 2, 15), "61.15"),  # 360 × 62/365 = 61.1507
        ("ACT/360", date(2027, 12, 15), date(2028, 2, 15), "62.00"),
        # 30/360: the 31st counts as the 30th when the start is the 30th or 31st
        ("30/360", date(2026, 1, 31), date(2026, 3, 31), "60.00"),
        ("30/360", date(2026, 2, 28), date(2026, 3, 31), "33.00"),  # 30 + (31 − 28)
    ],
)
def test_interest_by_convention(convention, start, end, interest):
    assert DayCount.parse(convention).interest(P, RATE, start, end).quantize(D("0.01")) == D(interest)


def test_daily_rates_divide_by_360_or_365():
    assert DayCount.ACT_360.daily_rate(D("0.036")) == D("0.0001")
    assert DayCount.ACT_365F.daily_rate(D("0.0365")) == D("0.0001")


def test_unknown_convention_names_the_field():
    with pytest.raises(InvalidArgumentError, match="day_count"):
        DayCount.parse("ACT/364")
