"""Template filters for document texts: dates and amounts in the forms court documents use.

The document engine loads this library as a built-in, so templates use the filters without
``{% load %}``. Every filter returns its input unchanged when it is not of the expected type,
so that a template shows the raw value instead of failing on an unusual context.
"""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django import template

register = template.Library()

_DIGITS = "〇一二三四五六七八九"


def _chinese_count(value: int) -> str:
    """Write 1 to 31 in Chinese numerals as dates do: 一, 十, 十一, 二十, 二十一, 三十一."""
    tens, units = divmod(value, 10)
    text = ""
    if tens:
        text = ("" if tens == 1 else _DIGITS[tens]) + "十"
    if units or not tens:
        text += _DIGITS[units]
    return text


@register.filter
def cn_date(value: Any) -> Any:
    """Format a date as the closing date of a court document: 二〇二六年三月五日."""
    if not isinstance(value, datetime.date):
        return value
    year = "".join(_DIGITS[int(digit)] for digit in f"{value.year:04d}")
    return f"{year}年{_chinese_count(value.month)}月{_chinese_count(value.day)}日"


@register.filter
def ymd(value: Any) -> Any:
    """Format a date in Arabic numerals without leading zeros: 2026年3月5日."""
    if not isinstance(value, datetime.date):
        return value
    return f"{value.year}年{value.month}月{value.day}日"


@register.filter
def yuan(value: Any) -> Any:
    """Format an amount of yuan with two decimal places and thousands separators: 356,800.00."""
    try:
        amount = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return value
    return f"{amount.quantize(Decimal('0.01')):,}"
