"""The link from an asset record to the form that applies a control measure to it."""

from __future__ import annotations

from typing import Any

from django import template
from django.template.loader import render_to_string

from zhixing.inquiry.models import AssetRecord
from zhixing.measures.kinds import MEASURABLE_TYPES
from zhixing.measures.services import may_control

register = template.Library()


@register.simple_tag(takes_context=True)
def measure_button(context: Any, asset: AssetRecord) -> str:
    """Render the button that opens the measure form for ``asset``, if the user may use it."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if asset.record_type not in MEASURABLE_TYPES or user is None or not asset.identifier:
        return ""
    # One check per page: every asset on the page belongs to the same case.
    cache = context.render_context.setdefault("measure_button_allowed", {})
    if asset.case_id not in cache:
        cache[asset.case_id] = may_control(user, asset.case)
    if not cache[asset.case_id]:
        return ""
    return render_to_string("measures/_button.html", {"asset": asset}, request=request)
