"""Search page of the audit trail, limited to the searcher's data scope."""

from __future__ import annotations

import datetime

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from zhixing.audit.forms import AuditSearchForm
from zhixing.audit.models import AuditRecord
from zhixing.courts import scope
from zhixing.courts.models import Court


def _day_start(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


@login_required
def audit_search(request: HttpRequest) -> HttpResponse:
    if not scope.may_read_audit(request.user):
        raise PermissionDenied(
            _("Only bureau heads, commanders and administrators read the audit trail.")
        )
    form = AuditSearchForm(request.GET or None)
    records = AuditRecord.objects.filter(scope.audit_scope(request.user))
    if form.is_valid():
        data = form.cleaned_data
        if data["username"]:
            records = records.filter(username__icontains=data["username"])
        if data["action"]:
            records = records.filter(action=data["action"])
        if data["object_type"]:
            records = records.filter(object_type__icontains=data["object_type"])
        if data["object_id"]:
            records = records.filter(object_id=data["object_id"])
        if data["court_code"]:
            court = Court.objects.filter(code=data["court_code"]).first()
            if court is None:
                records = records.none()
            else:
                records = records.filter(
                    Q(actor_court_path__startswith=court.path)
                    | Q(subject_court_path__startswith=court.path)
                )
        if data["since"]:
            records = records.filter(at__gte=_day_start(data["since"]))
        if data["until"]:
            records = records.filter(at__lt=_day_start(data["until"] + datetime.timedelta(days=1)))
    page = Paginator(records.order_by("-at", "-id"), 50).get_page(request.GET.get("page"))
    template = "audit/_rows.html" if request.headers.get("HX-Request") else "audit/search.html"
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, template, {"form": form, "page": page, "query": query.urlencode()})
