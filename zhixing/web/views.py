from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from zhixing.courts import scope
from zhixing.courts.models import Role, User
from zhixing.measures import services as measures

# What each role's home page offers first, in order; a user with several roles sees the union.
ROLE_TASKS = {
    Role.Code.CASE_OFFICER: [
        _("Cases assigned to you and their deadlines"),
        _("Debtor queries and their answers"),
    ],
    Role.Code.CLERK: [_("Case filing and documents to prepare")],
    Role.Code.BUREAU_HEAD: [
        _("Approvals waiting for you"),
        _("Supervision of your court"),
        _("Audit trail of your courts"),
    ],
    Role.Code.COMMANDER: [_("Command screen"), _("Key-information reports to acknowledge")],
    Role.Code.DUTY_OFFICER: [_("Daily duty sign-in"), _("Incoming reports and orders")],
    Role.Code.JUDICIAL_POLICE: [_("Field operations and incidents")],
    Role.Code.ADMINISTRATOR: [_("Staff accounts of your courts"), _("Audit trail of your courts")],
}


@login_required
def home(request: HttpRequest) -> HttpResponse:
    links = {
        str(_("Staff accounts of your courts")): reverse("user-list"),
        str(_("Audit trail of your courts")): reverse("audit-search"),
    }
    user = request.user
    roles = [role for role in Role.Code if user.has_role(role)]  # type: ignore[union-attr]
    tasks: list[tuple[str, str | None]] = []
    for role in roles:
        for task in ROLE_TASKS[role]:
            entry = (str(task), links.get(str(task)))
            if entry not in tasks:
                tasks.append(entry)
    courts = scope.visible_courts(user)
    expired = measures.expired_unrenewed(user, timezone.localdate()).count()  # type: ignore[arg-type]
    context = {
        "expired_measures": expired,
        "roles": [role.label for role in roles],
        "tasks": tasks,
        "court_count": courts.count(),
        "staff_count": scope.restrict(
            User.objects.filter(is_active=True),
            user,  # type: ignore[attr-defined]
        ).count(),
    }
    return render(request, "web/home.html", context)


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Render the lockout page that django-axes shows after repeated failed logins."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "web/locked_out.html", {"lockout_minutes": minutes}, status=429)
