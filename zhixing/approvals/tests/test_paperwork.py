"""Period ends of the applications' documents."""

from __future__ import annotations

import datetime

import pytest

from zhixing.approvals import paperwork


def test_period_end_day_before_same_day():
    assert paperwork.add_months(datetime.date(2026, 3, 5), 6) == datetime.date(2026, 9, 4)


def test_period_end_keeps_month_end():
    assert paperwork.add_months(datetime.date(2026, 3, 31), 1) == datetime.date(2026, 4, 30)
    assert paperwork.add_months(datetime.date(2028, 1, 31), 1) == datetime.date(2028, 2, 29)


def test_period_end_past_year_9999_raises():
    with pytest.raises(ValueError):
        paperwork.add_months(datetime.date(9999, 12, 1), 3)
