"""Template filters shared by the pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import pgettext

from zhixing.web import once

register = template.Library()


@register.filter
def join_list(values: Iterable[Any]) -> str:
    """Join names with the current language's list separator (", " in English, "、" in Chinese)."""
    return pgettext("list separator", ", ").join(str(value) for value in values)


@register.simple_tag
def once_token() -> SafeString:
    """Render the hidden one-time token of a form that stores something new (web/once.py)."""
    return format_html('<input type="hidden" name="{}" value="{}">', once.FIELD, once.new_token())
