from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from zhixing.approvals import services as approvals
from zhixing.cases.views import overdue_count, own_open_count
from zhixing.command import services as command
from zhixing.courts import scope
from zhixing.courts import services as courts
from zhixing.courts.models import Role, User
from zhixing.inquiry.views import awaiting_count, inbox_count
from zhixing.linkage.pages import waiting_batch_count
from zhixing.measures import services as measures
from zhixing.reports import services as reports
from zhixing.web.forms import OwnPasswordForm

# The home page counts what waits up to this many and then shows "99+", as the overdue badge.
COUNT_CAP = 100


@dataclass(frozen=True)
class Task:
    """An entry of the home page's "Your work" list and the page where the user does that work.

    A task without ``url_name`` has no page yet and is shown as text. ``query`` returns the
    query-string parameters that filter the page for the user. ``count`` returns how many
    things wait there for the user, counting no further than its ``cap`` argument.
    """

    label: Promise
    url_name: str = ""
    query: Callable[[User], dict[str, str]] | None = None
    count: Callable[[User, int], int] | None = None

    def url(self, user: User) -> str | None:
        if not self.url_name:
            return None
        url = reverse(self.url_name)
        if self.query is not None:
            url = f"{url}?{urlencode(self.query(user))}"
        return url


def _own_open_cases(user: User) -> dict[str, str]:
    # Open cases only, so that the list starts with the soonest deadline: closed cases have no
    # deadline, and SQLite sorts those first.
    return {"officer": str(user.pk), "status": "open", "sort": "due"}


def _overdue_open_cases(user: User) -> dict[str, str]:
    return {"status": "open", "due": "overdue"}


REPORTS_TO_ACKNOWLEDGE = Task(
    _("Key-information reports to acknowledge"),
    "report-list",
    count=reports.unacknowledged_count,
)
ORDERS = Task(
    _("Orders to and from your court"), "command-orders", count=command.awaiting_reply_count
)
AUDIT_TRAIL = Task(_("Audit trail of your courts"), "audit-search")

# What each role's home page offers first, in order; a user with several roles sees the union.
# Each linked page must open for every user of the role, which the home page tests check.
ROLE_TASKS = {
    Role.Code.CASE_OFFICER: [
        Task(
            _("Cases assigned to you and their deadlines"),
            "case-list",
            _own_open_cases,
            own_open_count,
        ),
        Task(_("Debtor queries and their answers"), "inquiry-request-list"),
        Task(_("New query answers for your cases"), "inquiry-inbox", count=inbox_count),
    ],
    Role.Code.CLERK: [
        Task(_("File a case"), "case-create"),
        Task(
            _("Manual agency requests waiting for answers"),
            "manual-batch-list",
            count=waiting_batch_count,
        ),
    ],
    Role.Code.BUREAU_HEAD: [
        Task(_("Approvals waiting for you"), "approval-list", count=approvals.awaiting_count),
        Task(
            _("Debtor queries waiting for your approval"), "inquiry-approvals", count=awaiting_count
        ),
        Task(
            _("Control measures waiting for your approval"),
            "measure-approvals",
            count=measures.awaiting_count,
        ),
        Task(_("Overdue cases of your courts"), "case-list", _overdue_open_cases, overdue_count),
        # Supervision notices about courts that reply late to orders are on the order list.
        Task(_("Supervision of your court"), "command-orders"),
        AUDIT_TRAIL,
    ],
    Role.Code.COMMANDER: [
        # NOTE: the command screen has no page yet, so this task stays text until it has one.
        Task(_("Command screen")),
        REPORTS_TO_ACKNOWLEDGE,
        ORDERS,
    ],
    Role.Code.DUTY_OFFICER: [
        Task(_("Daily duty sign-in"), "command-duty"),
        REPORTS_TO_ACKNOWLEDGE,
        ORDERS,
    ],
    Role.Code.JUDICIAL_POLICE: [
        # NOTE: field operations have no page yet, so this task stays text until they have one.
        Task(_("Field operations")),
        Task(_("Key-information reports on incidents"), "report-list"),
    ],
    Role.Code.ADMINISTRATOR: [Task(_("Staff accounts of your courts"), "user-list"), AUDIT_TRAIL],
}


def _count(task: Task, user: User) -> str | None:
    """Return how many things wait for ``user`` at the task's page, as shown, or None."""
    if task.count is None:
        return None
    count = task.count(user, COUNT_CAP)
    return f"{COUNT_CAP - 1}+" if count >= COUNT_CAP else str(count)


@login_required
def home(request: HttpRequest) -> HttpResponse:
    user: User = request.user  # type: ignore[assignment]
    roles = [role for role in Role.Code if user.has_role(role)]
    tasks: list[Task] = []
    for role in roles:
        for task in ROLE_TASKS[role]:
            if task not in tasks:
                tasks.append(task)
    courts = scope.visible_courts(user)
    expired = measures.expired_unrenewed(user, timezone.localdate()).count()
    context = {
        "expired_measures": expired,
        "roles": [role.label for role in roles],
        "tasks": [(str(task.label), task.url(user), _count(task, user)) for task in tasks],
        "court_count": courts.count(),
        "staff_count": scope.restrict(User.objects.filter(is_active=True), user).count(),
    }
    return render(request, "web/home.html", context)


def locked_out(
    request: HttpRequest, credentials: Any = None, *args: Any, **kwargs: Any
) -> HttpResponse:
    """Render the lockout page that django-axes shows after repeated failed logins."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return render(request, "web/locked_out.html", {"lockout_minutes": minutes}, status=429)


@login_required
def own_password(request: HttpRequest) -> HttpResponse:
    """Let the user change their own password, which a password set by an administrator needs."""
    user: User = request.user  # type: ignore[assignment]
    form = OwnPasswordForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        try:
            courts.set_password(actor=user, user=user, password=form.cleaned_data["password"])
        except ValidationError as error:
            for message in error.messages:
                form.add_error("password", message)
        else:
            # The session stays valid with the new password.
            update_session_auth_hash(request, user)
            messages.success(request, _("Your password is changed."))
            return redirect("home")
    return render(
        request,
        "web/own_password.html",
        {"form": form},
        status=400 if request.method == "POST" else 200,
    )
