"""Navigation shown on every page."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from zhixing.cases.views import overdue_count
from zhixing.command.services import may_read_orders
from zhixing.courts import scope
from zhixing.events import services as events
from zhixing.linkage.services import may_manage_agencies

# The overdue badge counts up to this many cases and then shows "99+".
OVERDUE_BADGE_CAP = 100

# Domains that later releases add; shown so that officers see where the platform is going.
UPCOMING_SECTIONS = (_("Statistics"),)


def navigation(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    context: dict[str, Any] = {
        "nav_upcoming": UPCOMING_SECTIONS,
        "nav_may_manage_users": scope.may_manage_users(user, user.court),
        "nav_may_read_audit": scope.may_read_audit(user),
        "nav_may_manage_agencies": may_manage_agencies(user),
        "nav_may_read_orders": may_read_orders(user),
    }
    # Partial htmx responses carry no navigation, so they skip the count.
    if not request.headers.get("HX-Request"):
        count = overdue_count(user, OVERDUE_BADGE_CAP)
        context["nav_overdue_count"] = count
        context["nav_overdue_capped"] = count >= OVERDUE_BADGE_CAP
        # The page's stream resumes after the newest event at render time, so an event
        # written between rendering and the stream's connection still reaches the page.
        context["live_after"] = events.latest_id()
    return context
