"""Template filters shared by the pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.translation import pgettext

register = template.Library()


@register.filter
def join_list(values: Iterable[Any]) -> str:
    """Join names with the current language's list separator (", " in English, "、" in Chinese)."""
    return pgettext("list separator", ", ").join(str(value) for value in values)
