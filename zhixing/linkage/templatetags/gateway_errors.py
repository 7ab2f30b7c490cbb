"""Template filter that shows a stored gateway error in the user's language."""

from __future__ import annotations

from django import template

from zhixing.linkage.error_text import describe_error

register = template.Library()


@register.filter
def gateway_error(text: str, agency_name: str | None = None) -> str:
    """Return the stored gateway error ``text`` in the active language.

    Used as ``{{ item.last_error|gateway_error:item.agency.name }}``. Without the agency's name,
    the name is looked up by the code in the text.
    """
    if not text:
        return ""
    return describe_error(str(text), agency_name or None)
