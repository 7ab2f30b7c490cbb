"""The dated rule table and the period arithmetic of freezes and seizures."""

from __future__ import annotations

import datetime

import pytest
from django.utils import translation

from zhixing.cases.deadlines import add_months
from zhixing.measures.rules import (
    RENEWAL_WINDOW_MONTHS,
    NoRuleError,
    PropertyClass,
    period_end,
    period_label,
    period_text,
    renewal_opens_on,
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


@pytest.mark.parametrize(
    ("months", "label"),
    [
        (1, "1 month"),
        (6, "6 months"),
        (12, "1 year"),
        (18, "1 year 6 months"),
        (25, "2 years 1 month"),
        (36, "3 years"),
    ],
)
def test_period_label_english(months, label):
    with translation.override("en"):
        assert period_label(months) == label


@pytest.mark.parametrize(
    ("day", "months", "earlier"),
    [
        (D(2029, 12, 6), 6, D(2029, 6, 6)),
        (D(2027, 3, 5), 6, D(2026, 9, 5)),
        (D(2027, 8, 31), 6, D(2027, 2, 28)),
        (D(2028, 8, 31), 6, D(2028, 2, 29)),
        (D(2027, 1, 15), 12, D(2026, 1, 15)),
    ],
)
def test_add_months_backwards(day, months, earlier):
    assert add_months(day, -months) == earlier


@pytest.mark.parametrize(
    ("end", "opens"),
    [
        (D(2029, 12, 5), D(2029, 6, 6)),
        (D(2027, 5, 31), D(2026, 12, 1)),
        (D(2027, 8, 30), D(2027, 2, 28)),
    ],
)
def test_renewal_opens_on(end, opens):
    assert RENEWAL_WINDOW_MONTHS == 6
    assert renewal_opens_on(end) == opens


def test_renewal_window_is_last_months():
    # A period of exactly the window's length may be renewed from its first day.
    start = D(2026, 12, 5)
    end = period_end(start, RENEWAL_WINDOW_MONTHS)

    assert renewal_opens_on(end) == start
