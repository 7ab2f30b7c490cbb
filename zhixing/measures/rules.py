"""The dated rules on the periods of freezes, seizures and distraints, and the period arithmetic.

Two rules are in the table:

- 2004: the Supreme People's Court's rules on seizure, distraint and freezing in civil
  enforcement (Fa Shi [2004] No. 15, art. 29), in force from 2005-01-01: bank deposits at most
  6 months, movables at most 1 year, real estate and other property rights at most 2 years;
  each renewal at most half of that period.
- 2015: the interpretation of the Civil Procedure Law (Fa Shi [2015] No. 5, art. 487), in force
  from 2015-02-04: deposits at most 1 year, movables at most 2 years, real estate and other
  property rights at most 3 years; each renewal at most the same period.

A measure keeps the rule in force on the day it was made, renewals included, so a freeze
made in 2014 is renewed for at most 3 months even today.
"""

from __future__ import annotations

import calendar
import datetime
from dataclasses import dataclass
from fractions import Fraction

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from zhixing.cases.deadlines import add_months


class PropertyClass(models.TextChoices):
    """The classes of property whose periods the rules set apart."""

    DEPOSIT = "deposit", _("Bank deposits")
    MOVABLE = "movable", _("Movable property")
    REAL_ESTATE = "real_estate", _("Real estate and other property rights")


@dataclass(frozen=True)
class PeriodRule:
    """One rule on freeze and seizure periods: maximum months per class, and the renewal share."""

    code: str
    effective_from: datetime.date
    source: str
    max_months: dict[str, int]
    renewal_share: Fraction

    def max_period(self, property_class: str) -> int:
        """Return the maximum months of a first measure on property of ``property_class``."""
        return self.max_months[property_class]

    def max_renewal(self, property_class: str) -> int:
        """Return the maximum months of one renewal, rounded down to whole months."""
        return int(self.max_months[property_class] * self.renewal_share)


RULES: tuple[PeriodRule, ...] = (
    PeriodRule(
        code="2004",
        effective_from=datetime.date(2005, 1, 1),
        source="法释〔2004〕15号 第二十九条",
        max_months={
            PropertyClass.DEPOSIT: 6,
            PropertyClass.MOVABLE: 12,
            PropertyClass.REAL_ESTATE: 24,
        },
        renewal_share=Fraction(1, 2),
    ),
    PeriodRule(
        code="2015",
        effective_from=datetime.date(2015, 2, 4),
        source="法释〔2015〕5号 第四百八十七条",
        max_months={
            PropertyClass.DEPOSIT: 12,
            PropertyClass.MOVABLE: 24,
            PropertyClass.REAL_ESTATE: 36,
        },
        renewal_share=Fraction(1),
    ),
)

RULE_CHOICES = [(rule.code, rule.source) for rule in RULES]

# Months before the end of a period from which a renewal (续行查封, 续冻) may be made. The law
# requires only that a renewal is made before the end. Six months leave time for a seizure
# renewal that a court above must approve. Because a renewal is possible only while the end is
# at most six months away, it leaves the end at most six months plus one renewal period after
# the day it is made, so renewals cannot be stacked.
# NOTE: chosen for this project, not set by a law or rule; confirm with the courts.
RENEWAL_WINDOW_MONTHS = 6


class NoRuleError(ValueError):
    """Raised for a date before the first rule of the table took effect."""


def rule_on(day: datetime.date) -> PeriodRule:
    """Return the rule in force on ``day``; raise :class:`NoRuleError` before 2005-01-01."""
    in_force = [rule for rule in RULES if rule.effective_from <= day]
    if not in_force:
        raise NoRuleError(
            f"No rule on freeze and seizure periods is recorded for {day.isoformat()}; the "
            f"earliest takes effect on {RULES[0].effective_from.isoformat()}."
        )
    return max(in_force, key=lambda rule: rule.effective_from)


def rule_by_code(code: str) -> PeriodRule:
    """Return the rule with ``code``; raise ``LookupError`` for an unknown one."""
    for rule in RULES:
        if rule.code == code:
            return rule
    raise LookupError(f"Unknown period rule {code!r}; use one of {[r.code for r in RULES]}.")


def period_end(start: datetime.date, months: int) -> datetime.date:
    """Return the last day of a period of ``months`` that starts on (and counts) ``start``.

    The period ends the day before the same date ``months`` later: 1 year from 2026-03-05
    ends on 2027-03-04, 6 months from 2026-03-05 on 2026-09-04. When the last month has no
    such date, the period ends on that month's last day: 6 months from 2026-08-31 end on
    2027-02-28, as the Civil Code (art. 202) ends periods without a matching day.
    """
    index = start.month - 1 + months
    year, month = start.year + index // 12, index % 12 + 1
    last_day = calendar.monthrange(year, month)[1]
    if start.day > last_day:
        return datetime.date(year, month, last_day)
    return datetime.date(year, month, start.day) - datetime.timedelta(days=1)


def renewal_opens_on(end: datetime.date) -> datetime.date:
    """Return the first day on which a period that ends on ``end`` may be renewed.

    It is the first day of the last :data:`RENEWAL_WINDOW_MONTHS` months of the period: a
    period ending on 2029-12-05 may be renewed from 2029-06-06. When that month has no such
    day, the window opens on the month's last day.
    """
    return add_months(end + datetime.timedelta(days=1), -RENEWAL_WINDOW_MONTHS)


def period_label(months: int) -> str:
    """Return the period in the user's language for pages: "1 year", "1 year 6 months".

    Court documents write the period in Chinese numerals with :func:`period_text` instead.
    """
    years, rest = divmod(months, 12)
    parts = []
    if years:
        parts.append(ngettext("%(years)s year", "%(years)s years", years) % {"years": years})
    if rest or not years:
        parts.append(ngettext("%(months)s month", "%(months)s months", rest) % {"months": rest})
    return " ".join(parts)


def period_text(months: int) -> str:
    """Return the period as court documents write it: 六个月, 一年, 一年六个月, 三年."""
    years, rest = divmod(months, 12)
    text = f"{_chinese_count(years)}年" if years else ""
    if rest:
        text += ("两" if rest == 2 else _chinese_count(rest)) + "个月"
    return text


def _chinese_count(value: int) -> str:
    """Write 0 to 99 in Chinese numerals: 三, 十一, 二十."""
    digits = "〇一二三四五六七八九"
    tens, units = divmod(value, 10)
    if not tens:
        return digits[units]
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[units] if units else "")
