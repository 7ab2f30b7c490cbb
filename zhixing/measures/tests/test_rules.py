"""The dated rule table and the period arithmetic of freezes and seizures."""

from __future__ import annotations

import datetime

import pytest

from zhixing.measures.rules import (
    NoRuleError,
    PropertyClass,
    period_end,
    period_text,
    rule_by_code,
    rule_on,
)

D = datetime.date


@pytest.mark.parametrize(
    ("day", "code"),
    [
        (D(2005, 1, 1), "2004"),
        (D(2014, 6, 30), "2004"),
        (D(2015, 2, 3), "2004"),
        (D(2015, 2, 4), "2015"),
        (D(2026, 12, 4), "2015"),
    ],
)
def test_rule_by_date(day, code):
    assert rule_on(day).code == code


def test_no_rule_before_2005():
    with pytest.raises(NoRuleError, match="2005-01-01"):
        rule_on(D(2004, 12, 31))


@pytest.mark.parametrize(
    ("code", "property_class", "first", "renewal"),
    [
        ("2015", PropertyClass.DEPOSIT, 12, 12),
        ("2015", PropertyClass.MOVABLE, 24, 24),
        ("2015", PropertyClass.REAL_ESTATE, 36, 36),
        ("2004", PropertyClass.DEPOSIT, 6, 3),
        ("2004", PropertyClass.MOVABLE, 12, 6),
        ("2004", PropertyClass.REAL_ESTATE, 24, 12),
    ],
)
def test_periods_and_renewal_caps(code, property_class, first, renewal):
    rule = rule_by_code(code)
    assert rule.max_period(property_class) == first
    assert rule.max_renewal(property_class) == renewal


def test_unknown_rule_code():
    with pytest.raises(LookupError):
        rule_by_code("1998")


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (D(2026, 3, 5), 12, D(2027, 3, 4)),
        (D(2026, 3, 5), 6, D(2026, 9, 4)),
        (D(2026, 3, 5), 36, D(2029, 3, 4)),
        (D(2026, 1, 1), 12, D(2026, 12, 31)),
        # February has no 31st or, in 2025, no 29th: the period ends on its last day.
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2026, 12, 31), 2, D(2027, 2, 28)),
    ],
)
def test_period_end(start, months, end):
    assert period_end(start, months) == end


@pytest.mark.parametrize(
    ("months", "text"),
    [
        (6, "六个月"),
        (12, "一年"),
        (18, "一年六个月"),
        (36, "三年"),
        (2, "两个月"),
        (11, "十一个月"),
    ],
)
def test_period_text(months, text):
    assert period_text(months) == text
